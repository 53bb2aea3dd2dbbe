// Asio's implementation, compiled once for the whole project
// (ASIO_SEPARATE_COMPILATION): every other file includes only declarations.
#include <asio/impl/src.hpp>
