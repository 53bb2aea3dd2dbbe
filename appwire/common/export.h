/* APPWIRE_EXPORT marks the public API of libappwire_client and
 * libappwire_server: the classes and functions of the installed headers.
 * Everything else is compiled with hidden visibility, so a shared build
 * exports only what these headers declare, and never wolfSSL, Asio or an
 * internal symbol (tests/downstream/ checks with nm -D).
 *
 * Plain preprocessor, so that the C API (appwire/c/appwire.h) can use it.
 * On Windows a DLL build defines APPWIRE_SHARED_LIBRARY for the library
 * and its users, and APPWIRE_BUILDING_LIBRARY while compiling the library;
 * a static build defines neither. */
#ifndef APPWIRE_COMMON_EXPORT_H_
#define APPWIRE_COMMON_EXPORT_H_

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(APPWIRE_SHARED_LIBRARY) && defined(APPWIRE_BUILDING_LIBRARY)
#define APPWIRE_EXPORT __declspec(dllexport)
#elif defined(APPWIRE_SHARED_LIBRARY)
#define APPWIRE_EXPORT __declspec(dllimport)
#else
#define APPWIRE_EXPORT
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define APPWIRE_EXPORT __attribute__((visibility("default")))
#else
#define APPWIRE_EXPORT
#endif

/* APPWIRE_HIDDEN: a class nested in an exported one that is not public
 * (Channel::Impl, Server::Impl); nested classes take the visibility of the
 * class around them otherwise. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32) && !defined(__CYGWIN__)
#define APPWIRE_HIDDEN __attribute__((visibility("hidden")))
#else
#define APPWIRE_HIDDEN
#endif

#endif /* APPWIRE_COMMON_EXPORT_H_ */
