/* The appwire client as a C API, for apps not written in C++ (Delphi, C#,
 * Python ctypes, 4D plugins, Clarion): opaque handles, plain C types, one
 * status code per function. It is a thin layer over the C++ Channel
 * (appwire/client/channel.h) and behaves as it does; docs/c_api.md is the
 * reference, with examples in C and Python.
 *
 *   appwire_options* options = NULL;
 *   appwire_options_new(&options);
 *   appwire_options_set_target(options, "localhost:19813");
 *   appwire_options_set_ca_file(options, "client/ca.pem");
 *   appwire_channel* channel = NULL;
 *   appwire_error* error = NULL;
 *   if (appwire_connect(options, &channel, &error) != APPWIRE_OK) {
 *     show(appwire_error_message(error));
 *     appwire_error_free(error);
 *   }
 *   appwire_options_free(options);  // the channel keeps its own copy
 *
 *   appwire_reply* reply = NULL;
 *   appwire_call(channel, "appwire.v1.Health/Check", NULL, 0, NULL, &reply);
 *   size_t size = 0;
 *   const uint8_t* bytes = appwire_reply_data(reply, &size);  // protobuf
 *   appwire_reply_free(reply);
 *   appwire_channel_free(channel);
 *
 * Status codes. Every function that does something returns an
 * appwire_code: APPWIRE_OK, or the absl::StatusCode number of what went
 * wrong. The words are in a handle that belongs to that one call: an
 * appwire_error (appwire_connect, appwire_channel_wait_for_ready) or an
 * appwire_reply (calls, a stream's end), never a shared "last error", so
 * threads do not overwrite each other's messages. Accessors of a handle
 * (appwire_*_code, appwire_*_message, appwire_reply_data, ...) return
 * their value, and appwire_*_free return nothing (and accept NULL). A
 * NULL handle where one is required gives APPWIRE_INVALID_ARGUMENT.
 *
 * Memory. Whatever the library returns through a `T**` out parameter is
 * the caller's, to free with the matching appwire_T_free (exactly once,
 * from any thread); pointers returned by accessors belong to the handle
 * and stay valid until it is freed. Strings are NUL-terminated UTF-8;
 * byte buffers come with their size. The library copies every string and
 * buffer it is given before the function returns.
 *
 * Threads. A channel may be used from many threads at once (calls, streams,
 * state, close), as the C++ Channel may. An options, call options or reply
 * handle is used by one thread at a time. Callbacks (async completions,
 * state changes) run on the channel's I/O thread, except where a function
 * says otherwise (a call that fails at once, a cancel, a close complete on
 * the thread that caused it). Keep callbacks short. A callback must not
 * make a blocking call on its own channel (appwire_call,
 * appwire_channel_wait_for_ready, appwire_stream_read/write/finish): the
 * I/O thread would wait for itself. It may start async calls, cancel, close
 * the channel, and even free it (see appwire_channel_free).
 *
 * Compiles as C99 and as C++; every function has C linkage. */
#ifndef APPWIRE_C_APPWIRE_H_
#define APPWIRE_C_APPWIRE_H_

#include <stddef.h>
#include <stdint.h>

#include "appwire/common/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* absl::StatusCode's numbers, as gRPC's. */
typedef enum appwire_code {
  APPWIRE_OK = 0,
  APPWIRE_CANCELLED = 1,
  APPWIRE_UNKNOWN = 2,
  APPWIRE_INVALID_ARGUMENT = 3,
  APPWIRE_DEADLINE_EXCEEDED = 4,
  APPWIRE_NOT_FOUND = 5,
  APPWIRE_ALREADY_EXISTS = 6,
  APPWIRE_PERMISSION_DENIED = 7,
  APPWIRE_RESOURCE_EXHAUSTED = 8,
  APPWIRE_FAILED_PRECONDITION = 9,
  APPWIRE_ABORTED = 10,
  APPWIRE_OUT_OF_RANGE = 11, /* also: a stream has no more messages */
  APPWIRE_UNIMPLEMENTED = 12,
  APPWIRE_INTERNAL = 13,
  APPWIRE_UNAVAILABLE = 14,
  APPWIRE_DATA_LOSS = 15,
  APPWIRE_UNAUTHENTICATED = 16
} appwire_code;

/* A channel's connectivity (appwire/client/connectivity_state.h). */
typedef enum appwire_state {
  APPWIRE_STATE_IDLE = 0,              /* no connection; the next call opens one */
  APPWIRE_STATE_CONNECTING = 1,        /* an attempt is under way */
  APPWIRE_STATE_READY = 2,             /* connected: calls go out at once */
  APPWIRE_STATE_TRANSIENT_FAILURE = 3, /* the last attempt failed; retried after a backoff */
  APPWIRE_STATE_SHUTDOWN = 4           /* closed; calls fail */
} appwire_state;

/* TLS versions, with 4D's numbers (kTLSv1_2, kTLSv1_3). */
typedef enum appwire_tls_version {
  APPWIRE_TLS_1_2 = 3,
  APPWIRE_TLS_1_3 = 4
} appwire_tls_version;

/* How a method's messages flow (the `stream` keywords of its .proto). */
typedef enum appwire_method_kind {
  APPWIRE_UNARY = 0,
  APPWIRE_SERVER_STREAMING = 1,
  APPWIRE_CLIENT_STREAMING = 2,
  APPWIRE_BIDI_STREAMING = 3
} appwire_method_kind;

typedef struct appwire_error appwire_error;               /* a code and its message */
typedef struct appwire_options appwire_options;           /* how to connect */
typedef struct appwire_channel appwire_channel;           /* a connection to a server */
typedef struct appwire_call_options appwire_call_options; /* deadline, metadata, cancel */
typedef struct appwire_cancel appwire_cancel;             /* cancels calls from any thread */
typedef struct appwire_reply appwire_reply;               /* how a call ended, and its reply */
typedef struct appwire_metadata appwire_metadata;         /* request headers or trailers */
typedef struct appwire_stream appwire_stream;             /* a streaming call */

/* ---- Library ---------------------------------------------------------- */

/* "0.2.0": the library's version. Static storage; never freed. */
APPWIRE_EXPORT const char* appwire_version(void);
/* "OK", "CANCELLED", ..., "UNAUTHENTICATED"; "UNKNOWN" for other numbers.
 * Static storage. */
APPWIRE_EXPORT const char* appwire_code_name(appwire_code code);
/* "idle", "connecting", "ready", "transient failure", "shut down".
 * Static storage. */
APPWIRE_EXPORT const char* appwire_state_name(appwire_state state);

/* ---- Errors ----------------------------------------------------------- */

/* Functions taking `appwire_error** error` set *error to a new error when
 * they fail (the caller frees it with appwire_error_free) and to NULL when
 * they succeed. Pass NULL when the message is not wanted. */
APPWIRE_EXPORT appwire_code appwire_error_code(const appwire_error* error);
/* The words, e.g. "TLS handshake with 127.0.0.1:19813 failed: certificate
 * verify failed: ...". Owned by `error`. "" for a NULL error. */
APPWIRE_EXPORT const char* appwire_error_message(const appwire_error* error);
APPWIRE_EXPORT void appwire_error_free(appwire_error* error);

/* ---- Connect options -------------------------------------------------- */

/* A new options object with the C++ defaults (ChannelOptions): no trust
 * configured, TLS 1.3 minimum, connect timeout 10 s, no default deadline.
 * Free with appwire_options_free; appwire_connect copies it, so it may be
 * freed right after. */
APPWIRE_EXPORT appwire_code appwire_options_new(appwire_options** options);
APPWIRE_EXPORT void appwire_options_free(appwire_options* options);

/* The setters copy their arguments. A refused value (APPWIRE_INVALID_ARGUMENT)
 * changes nothing; the options remember the first refusal and
 * appwire_connect fails with it, message included, so a caller that checks
 * only appwire_connect still learns what was wrong. NULL for a string
 * clears it. */

/* "host:port" or "[::1]:port"; the port defaults to 19813. Required. */
APPWIRE_EXPORT appwire_code appwire_options_set_target(appwire_options* options,
                                                       const char* target);
/* The name the server's certificate must carry (and the SNI). Default: the
 * host of the target. */
APPWIRE_EXPORT appwire_code appwire_options_set_server_name(appwire_options* options,
                                                            const char* server_name);
/* How the server is trusted; at least one of the CA file, the system
 * store, the pin or a client folder is required. */
/* A PEM file of trusted roots. */
APPWIRE_EXPORT appwire_code appwire_options_set_ca_file(appwire_options* options,
                                                        const char* path);
/* Nonzero: trust the system's roots (/etc/ssl/certs). */
APPWIRE_EXPORT appwire_code appwire_options_set_use_system_trust_store(appwire_options* options,
                                                                       int use);
/* "SHA256:AB:CD:...", as appwire-server prints it: only that certificate
 * is accepted. */
APPWIRE_EXPORT appwire_code appwire_options_set_pinned_sha256(appwire_options* options,
                                                              const char* fingerprint);
/* A client folder (appwire/client/client_folder.h): key.pem + cert.pem as
 * this client's identity, ca.pem as the trusted roots, known_servers for
 * fingerprints pinned on first use, <folder>/<host>/ for per-server files.
 * Explicit settings win over its files. */
APPWIRE_EXPORT appwire_code appwire_options_set_client_folder(appwire_options* options,
                                                              const char* path);
/* Nonzero: a server no CA vouches for is trusted on first contact and its
 * fingerprint recorded in the client folder's known_servers (as SSH
 * does); afterwards only that certificate is accepted. Needs a client
 * folder. Default off. */
APPWIRE_EXPORT appwire_code appwire_options_set_trust_on_first_use(appwire_options* options,
                                                                   int trust);
/* This client's certificate chain (leaf first) and private key, PEM files,
 * for servers that ask for one. Both or neither (NULL, NULL clears). */
APPWIRE_EXPORT appwire_code appwire_options_set_certificate(appwire_options* options,
                                                            const char* certificate_file,
                                                            const char* private_key_file);
/* The passphrase of an encrypted private key: a file whose first line it
 * is, or the name of an environment variable that holds it. */
APPWIRE_EXPORT appwire_code appwire_options_set_key_passphrase_file(appwire_options* options,
                                                                    const char* path);
APPWIRE_EXPORT appwire_code appwire_options_set_key_passphrase_env(appwire_options* options,
                                                                   const char* variable);
/* The lowest and highest TLS version offered (4D selectors 105 and 1001).
 * Default TLS 1.3 for both. */
APPWIRE_EXPORT appwire_code appwire_options_set_min_tls_version(appwire_options* options,
                                                                appwire_tls_version version);
APPWIRE_EXPORT appwire_code appwire_options_set_max_tls_version(appwire_options* options,
                                                                appwire_tls_version version);
/* Any database parameter of this channel (appwire/common/parameters.h,
 * docs/configuration.md), by selector number: e.g. kHandshakeTimeout
 * (1005, milliseconds), kMaxMessageSize (1006), kKeepaliveInterval (1009).
 * Checked as the C++ ParameterOverrides::Set checks them. */
APPWIRE_EXPORT appwire_code appwire_options_set_parameter_int(appwire_options* options,
                                                              int selector, int64_t value);
APPWIRE_EXPORT appwire_code appwire_options_set_parameter_string(appwire_options* options,
                                                                 int selector,
                                                                 const char* value);
/* Bounds the TCP connect; positive. Default 10000 ms. (The TLS handshake is
 * bounded by kHandshakeTimeout.) */
APPWIRE_EXPORT appwire_code appwire_options_set_connect_timeout_ms(appwire_options* options,
                                                                   int64_t milliseconds);
/* The deadline of every call on this channel whose call options set none;
 * 0 (the default): no deadline. */
APPWIRE_EXPORT appwire_code appwire_options_set_default_timeout_ms(appwire_options* options,
                                                                   int64_t milliseconds);
/* The wait between failed reconnection attempts: `initial_ms`, times
 * `multiplier` after each failure, up to `max_ms`, each randomised by
 * +-`jitter` (a fraction). Defaults 1000, 1.6, 0.2, 120000 (gRPC's). */
APPWIRE_EXPORT appwire_code appwire_options_set_reconnect_backoff(appwire_options* options,
                                                                  int64_t initial_ms,
                                                                  double multiplier,
                                                                  double jitter,
                                                                  int64_t max_ms);
/* Sent to the server in the hello frame. Default "appwire-client" and the
 * library's version. */
APPWIRE_EXPORT appwire_code appwire_options_set_software(appwire_options* options,
                                                         const char* name,
                                                         const char* version);

/* Called on every state change of the channel, with the reason for
 * APPWIRE_STATE_TRANSIENT_FAILURE (reason_code APPWIRE_OK and "" for the
 * other states). `reason_message` is valid only during the call. Runs on
 * the channel's I/O thread, except the change to APPWIRE_STATE_SHUTDOWN,
 * which runs on the thread calling appwire_channel_close or
 * appwire_channel_free. Never runs once appwire_channel_free returned
 * (it waits for one running on another thread). `user_data` is passed
 * back as given; the library never frees it. */
typedef void (*appwire_state_callback)(void* user_data, appwire_state state,
                                       appwire_code reason_code, const char* reason_message);
APPWIRE_EXPORT appwire_code appwire_options_set_state_callback(appwire_options* options,
                                                               appwire_state_callback callback,
                                                               void* user_data);

/* A callback the channel hands to the app's executor instead of running
 * it on the I/O thread (ChannelOptions::callback_executor), e.g. to run it
 * on a UI thread. */
typedef struct appwire_task appwire_task;
/* Receives each callback (async completions and state changes) as a task,
 * on the thread that would otherwise run it; it must arrange for
 * appwire_task_run to be called once, from any thread, soon (e.g. post
 * it to the UI's queue). Blocking calls never go through it. */
typedef void (*appwire_executor)(void* user_data, appwire_task* task);
/* Sets the executor (NULL: callbacks run on the I/O thread, the default).
 * Once appwire_channel_free returned, the executor is not called any
 * more, but tasks may still be queued in it: completions then run when
 * their task runs, later (they must not use the freed channel), and state
 * changes are dropped. */
APPWIRE_EXPORT appwire_code appwire_options_set_executor(appwire_options* options,
                                                         appwire_executor executor,
                                                         void* user_data);
/* Runs the task's callback on this thread and frees the task. Exactly
 * once per task. */
APPWIRE_EXPORT void appwire_task_run(appwire_task* task);
/* Frees a task without running it: for an app shutting down its queue.
 * An async call whose completion task is dropped never completes (its
 * reply is freed). */
APPWIRE_EXPORT void appwire_task_free(appwire_task* task);

/* ---- Channel ---------------------------------------------------------- */

/* Connects once before returning (TCP, TLS handshake verifying the
 * server's certificate and name), so a wrong address, certificate or
 * setting is reported here: APPWIRE_UNAUTHENTICATED for a certificate
 * this client does not trust, APPWIRE_UNAVAILABLE for a server that cannot
 * be reached, APPWIRE_INVALID_ARGUMENT for a bad option; the message says
 * what to fix. On success *channel is a new channel, freed with
 * appwire_channel_free; on failure *channel is NULL. Blocks; may be called
 * from any thread. The state callback may run before it returns. */
APPWIRE_EXPORT appwire_code appwire_connect(const appwire_options* options,
                                            appwire_channel** channel, appwire_error** error);

/* Closes the connection politely (a GoAway, then TLS close_notify); the
 * state becomes APPWIRE_STATE_SHUTDOWN. Calls in flight end with
 * APPWIRE_CANCELLED ("M failed: the client closed the channel"), their
 * callbacks running on this thread before it returns; later calls fail
 * with APPWIRE_FAILED_PRECONDITION. Idempotent; thread-safe; allowed in a
 * callback. The handle stays valid until appwire_channel_free. */
APPWIRE_EXPORT appwire_code appwire_channel_close(appwire_channel* channel);

/* Closes the channel (as appwire_channel_close) and frees it. When it
 * returns, every async completion has run, no state callback runs any
 * more, and the I/O thread has ended. Streams may outlive their channel
 * (their call ended with APPWIRE_CANCELLED); free them separately. Must
 * not race with other uses of this channel handle. May be called from a
 * callback of this very channel: the channel then ends right after that
 * callback returns, running nothing more of the app's. A callback must
 * not wait for a thread that is inside appwire_channel_free. */
APPWIRE_EXPORT void appwire_channel_free(appwire_channel* channel);

/* The current state. APPWIRE_STATE_SHUTDOWN for a NULL channel. */
APPWIRE_EXPORT appwire_state appwire_channel_state(const appwire_channel* channel);

/* Waits until the channel is ready (APPWIRE_OK), shut down
 * (APPWIRE_FAILED_PRECONDITION) or `timeout_ms` passed
 * (APPWIRE_DEADLINE_EXCEEDED, with the last connection error). Starts
 * connecting when idle. Blocks: not from the channel's own callbacks. */
APPWIRE_EXPORT appwire_code appwire_channel_wait_for_ready(appwire_channel* channel,
                                                           int64_t timeout_ms,
                                                           appwire_error** error);

/* What the current (or last) connection negotiated and what the server
 * said in its hello: each a new NUL-terminated string in *value, freed
 * with appwire_string_free. Keys: "tls_version" ("TLSv1.3"), "cipher",
 * "alpn", "peer_address", "server_name", "server_certificate_sha256",
 * "server_software" ("appwire-server 0.2.0"), "connections_made" (a
 * number). Unknown key: APPWIRE_INVALID_ARGUMENT. */
APPWIRE_EXPORT appwire_code appwire_channel_info(const appwire_channel* channel,
                                                 const char* key, char** value);
APPWIRE_EXPORT void appwire_string_free(char* value);

/* ---- Per-call options ------------------------------------------------- */

/* Deadline, fail-fast, request metadata and cancellation for calls. One
 * object may serve many calls; calls copy what they need when they start,
 * so it may be changed or freed right after. Pass NULL for the defaults. */
APPWIRE_EXPORT appwire_code appwire_call_options_new(appwire_call_options** options);
APPWIRE_EXPORT void appwire_call_options_free(appwire_call_options* options);
/* The call fails with APPWIRE_DEADLINE_EXCEEDED when no reply came within
 * this (connecting included); the server is told and cancels its handler.
 * 0: the channel's default timeout. Negative: refused. */
APPWIRE_EXPORT appwire_code appwire_call_options_set_timeout_ms(appwire_call_options* options,
                                                                 int64_t milliseconds);
/* Nonzero: when the channel is in APPWIRE_STATE_TRANSIENT_FAILURE, fail at
 * once (APPWIRE_UNAVAILABLE and the reason) instead of waiting for the
 * connection up to the deadline. */
APPWIRE_EXPORT appwire_code appwire_call_options_set_fail_fast(appwire_call_options* options,
                                                               int fail_fast);
/* Adds a request header. Keys: lower-case letters, digits, '-', '_', '.';
 * a key ending in "-bin" carries any bytes, others printable ASCII. Keys
 * may repeat. Checked when the call starts (APPWIRE_INVALID_ARGUMENT or
 * APPWIRE_RESOURCE_EXHAUSTED in its reply). */
APPWIRE_EXPORT appwire_code appwire_call_options_add_metadata(appwire_call_options* options,
                                                              const char* key,
                                                              const void* value,
                                                              size_t value_size);
/* Removes every request header. */
APPWIRE_EXPORT appwire_code appwire_call_options_clear_metadata(appwire_call_options* options);
/* Calls made with these options can be cancelled with `cancel` (NULL: no
 * token). The options keep their own reference: the token may be freed
 * before them. */
APPWIRE_EXPORT appwire_code appwire_call_options_set_cancel(appwire_call_options* options,
                                                            appwire_cancel* cancel);

/* ---- Cancellation ----------------------------------------------------- */

/* A token that cancels every call started with it (CancellationToken):
 * a call cancelled ends at once with APPWIRE_CANCELLED ("M was cancelled
 * by the client"), the server's handler is cancelled; a call started with
 * an already cancelled token fails with APPWIRE_CANCELLED ("M was
 * cancelled before it started"). Thread-safe. */
APPWIRE_EXPORT appwire_code appwire_cancel_new(appwire_cancel** cancel);
/* Cancels. The completions of async calls cancelled run on this thread
 * before it returns. Idempotent. */
APPWIRE_EXPORT appwire_code appwire_cancel_cancel(appwire_cancel* cancel);
/* 1 once cancelled, else 0. */
APPWIRE_EXPORT int appwire_cancel_is_cancelled(const appwire_cancel* cancel);
/* Frees this handle; calls started with it keep it alive as long as they
 * need it. */
APPWIRE_EXPORT void appwire_cancel_free(appwire_cancel* cancel);

/* ---- Replies ---------------------------------------------------------- */

/* How a call ended: its code, message, response bytes and the server's
 * trailers. */
APPWIRE_EXPORT appwire_code appwire_reply_code(const appwire_reply* reply);
/* "" when OK. Owned by the reply. */
APPWIRE_EXPORT const char* appwire_reply_message(const appwire_reply* reply);
/* The serialized response (protobuf), owned by the reply; *size gets its
 * length (0 on failure or an empty message). Never NULL for a non-NULL
 * reply. */
APPWIRE_EXPORT const uint8_t* appwire_reply_data(const appwire_reply* reply, size_t* size);
/* The server's response trailers, owned by the reply; empty when the call
 * did not reach the server. */
APPWIRE_EXPORT const appwire_metadata* appwire_reply_trailers(const appwire_reply* reply);
APPWIRE_EXPORT void appwire_reply_free(appwire_reply* reply);

/* ---- Metadata (read side) --------------------------------------------- */

/* Entries sorted by key (repeated keys in the order received). */
APPWIRE_EXPORT size_t appwire_metadata_count(const appwire_metadata* metadata);
/* Entry `index`: *key and *value owned by the metadata, value_size bytes
 * (NUL-terminated too, for text values). APPWIRE_OUT_OF_RANGE past the end. */
APPWIRE_EXPORT appwire_code appwire_metadata_get(const appwire_metadata* metadata, size_t index,
                                                 const char** key, const uint8_t** value,
                                                 size_t* value_size);
/* The first value of `key`; APPWIRE_NOT_FOUND when absent. */
APPWIRE_EXPORT appwire_code appwire_metadata_find(const appwire_metadata* metadata,
                                                  const char* key, const uint8_t** value,
                                                  size_t* value_size);

/* ---- Unary calls ------------------------------------------------------ */

/* Calls `method` ("package.Service/Method") with the serialized request
 * (`request_size` bytes, NULL allowed for 0) and waits for the reply. Sets
 * *reply to a new reply in every case (the caller frees it with
 * appwire_reply_free), whose code this returns: the server's status, or
 * APPWIRE_DEADLINE_EXCEEDED, APPWIRE_CANCELLED, APPWIRE_UNAVAILABLE (the
 * connection was lost), APPWIRE_FAILED_PRECONDITION (the channel is
 * closed). Waits for a connection when there is none, up to the deadline.
 * Thread-safe; not from the channel's own callbacks. */
APPWIRE_EXPORT appwire_code appwire_call(appwire_channel* channel, const char* method,
                                         const void* request, size_t request_size,
                                         const appwire_call_options* options,
                                         appwire_reply** reply);

/* The completion of an async call: runs exactly once per started call.
 * `reply` is the callback's, to free with appwire_reply_free (now, or
 * later from any thread). */
typedef void (*appwire_call_callback)(void* user_data, appwire_reply* reply);

/* Starts the call and returns APPWIRE_OK; `done` then runs exactly once
 * with the reply, on the channel's I/O thread — or, when the call fails at
 * once (closed channel, invalid metadata or timeout, cancelled token),
 * on this thread before appwire_call_async returns; when cancelled, on
 * the thread calling appwire_cancel_cancel; when the channel is closed or
 * freed, on that thread. Returns without running `done` only with
 * APPWIRE_INVALID_ARGUMENT (a NULL channel, method or callback) or
 * APPWIRE_RESOURCE_EXHAUSTED (out of memory before the call started).
 * `reply` is NULL only when memory ran out when the call ended.
 * `user_data` is passed back as given. Thread-safe. */
APPWIRE_EXPORT appwire_code appwire_call_async(appwire_channel* channel, const char* method,
                                               const void* request, size_t request_size,
                                               const appwire_call_options* options,
                                               appwire_call_callback done, void* user_data);

/* ---- Streaming calls -------------------------------------------------- */

/* Opens a streaming call (ClientStream). `request` is the request of a
 * server-streaming call (ignored for the other kinds, which send theirs
 * with appwire_stream_write). A call that cannot start still gives a
 * stream, whose appwire_stream_finish says why, as in C++: this returns
 * APPWIRE_OK with *stream set unless an argument is NULL or `kind` is not
 * a streaming kind (APPWIRE_INVALID_ARGUMENT, *stream NULL). Free with
 * appwire_stream_free. */
APPWIRE_EXPORT appwire_code appwire_stream_open(appwire_channel* channel, const char* method,
                                                appwire_method_kind kind, const void* request,
                                                size_t request_size,
                                                const appwire_call_options* options,
                                                appwire_stream** stream);
/* Waits for the next message from the server. APPWIRE_OK: *data and *size
 * hold it, owned by the stream, valid until the next read on it or its
 * free. APPWIRE_OUT_OF_RANGE: no more messages (the call is over or the
 * server finished); appwire_stream_finish says how it ended. */
APPWIRE_EXPORT appwire_code appwire_stream_read(appwire_stream* stream, const uint8_t** data,
                                                size_t* size);
/* Sends one message (client and bidirectional streaming); blocks while the
 * server's flow-control window is used up. APPWIRE_OUT_OF_RANGE: the call
 * is over (or writes are done, or it is server-streaming); see
 * appwire_stream_finish. */
APPWIRE_EXPORT appwire_code appwire_stream_write(appwire_stream* stream, const void* data,
                                                 size_t size);
/* No more messages from us. APPWIRE_OUT_OF_RANGE as for write. */
APPWIRE_EXPORT appwire_code appwire_stream_writes_done(appwire_stream* stream);
/* Ends writing if not done yet, waits for the call's end and sets *reply
 * to a new reply (code, message, the response of a client-streaming call,
 * the trailers); returns its code. May be called again. */
APPWIRE_EXPORT appwire_code appwire_stream_finish(appwire_stream* stream, appwire_reply** reply);
/* Abandons the call: the server's handler is cancelled, reads and writes
 * end, finish gives APPWIRE_CANCELLED ("M was cancelled by the client").
 * Thread-safe, also while another thread reads or writes. */
APPWIRE_EXPORT appwire_code appwire_stream_cancel(appwire_stream* stream);
/* Frees the stream, cancelling the call if it has not ended. One thread
 * may read while another writes; free must come after both. */
APPWIRE_EXPORT void appwire_stream_free(appwire_stream* stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* APPWIRE_C_APPWIRE_H_ */
