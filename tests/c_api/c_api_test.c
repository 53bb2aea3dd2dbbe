/* The C API (appwire/c/appwire.h) from a program written in C: the
 * built-in Echo and Health services of a running appwire-server, called
 * unary, async and streaming, cancelled, timed out, closed, and connected
 * with each way of trusting the server, the wrong ones included.
 *
 *   c_api_test TARGET PROJECT_DIR WRONG_CA_FILE FINGERPRINT TEMP_DIR
 *
 * run_with_server (tests/c_api/run_with_server.cc) starts the server on a
 * fresh PROJECT_DIR and passes these. Each check prints what differed;
 * the exit code is the number of failed checks (capped), 0 when all pass.
 * Compiled as C99: nothing here may need C++. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "appwire/c/appwire.h"

static int failures = 0;

#define CHECK(condition, ...)                                                        \
  do {                                                                               \
    if (!(condition)) {                                                              \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #condition); \
      fprintf(stderr, __VA_ARGS__);                                                  \
      fputc('\n', stderr);                                                           \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

/* The code, and each of the NULL-terminated words in the message. */
static void check_outcome(const char* what, appwire_code got, const char* message,
                          appwire_code want, const char* const* words) {
  if (got != want) {
    fprintf(stderr, "%s: got %s (%d) \"%s\", want %s\n", what, appwire_code_name(got),
            (int)got, message, appwire_code_name(want));
    ++failures;
    return;
  }
  for (; words != NULL && *words != NULL; ++words) {
    if (strstr(message, *words) == NULL) {
      fprintf(stderr, "%s: the message \"%s\" lacks \"%s\"\n", what, message, *words);
      ++failures;
    }
  }
}

static void check_reply(const char* what, const appwire_reply* reply, appwire_code want,
                        const char* const* words) {
  if (reply == NULL) {
    fprintf(stderr, "%s: no reply\n", what);
    ++failures;
    return;
  }
  check_outcome(what, appwire_reply_code(reply), appwire_reply_message(reply), want, words);
}

static void check_error(const char* what, appwire_code got, const appwire_error* error,
                        appwire_code want, const char* const* words) {
  if (got != APPWIRE_OK && error == NULL) {
    fprintf(stderr, "%s: %s without an error object\n", what, appwire_code_name(got));
    ++failures;
  }
  if (got != appwire_error_code(error)) {
    fprintf(stderr, "%s: returned %d but the error says %d\n", what, (int)got,
            (int)appwire_error_code(error));
    ++failures;
  }
  check_outcome(what, got, appwire_error_message(error), want, words);
}

/* ---- Protobuf by hand: EchoRequest/EchoResponse { bytes payload = 1; },
 * HealthCheckResponse { ServingStatus status = 1; } (SERVING = 1). */

static size_t put_varint(uint8_t* out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  out[n++] = (uint8_t)value;
  return n;
}

/* Field 1, wire type 2; proto3 omits an empty payload. */
static size_t encode_payload(uint8_t* out, const char* payload, size_t size) {
  size_t n = 0;
  if (size == 0) return 0;
  out[n++] = 0x0A;
  n += put_varint(out + n, size);
  memcpy(out + n, payload, size);
  return n + size;
}

/* 1 when `data` is an Echo message whose payload is `want`. */
static int payload_is(const uint8_t* data, size_t size, const char* want, size_t want_size) {
  uint64_t length = 0;
  size_t at = 1;
  int shift = 0;
  if (size == 0) return want_size == 0;
  if (data[0] != 0x0A) return 0;
  while (at < size) {
    length |= (uint64_t)(data[at] & 0x7F) << shift;
    shift += 7;
    if ((data[at++] & 0x80) == 0) break;
  }
  return at + length == size && length == want_size && memcmp(data + at, want, want_size) == 0;
}

/* ---- The arguments ---------------------------------------------------- */

static const char* target;
static char cert_file[4096];
static char key_file[4096];
static const char* wrong_ca;
static const char* fingerprint;
static const char* temp_dir;

static appwire_options* options_with_ca(const char* ca_file) {
  appwire_options* options = NULL;
  CHECK(appwire_options_new(&options) == APPWIRE_OK, "appwire_options_new");
  CHECK(appwire_options_set_target(options, target) == APPWIRE_OK, "set_target");
  if (ca_file != NULL) {
    CHECK(appwire_options_set_ca_file(options, ca_file) == APPWIRE_OK, "set_ca_file");
  }
  return options;
}

static appwire_channel* connect_ok(appwire_options* options, const char* what) {
  appwire_channel* channel = NULL;
  appwire_error* error = NULL;
  appwire_code code = appwire_connect(options, &channel, &error);
  check_error(what, code, error, APPWIRE_OK, NULL);
  CHECK((code == APPWIRE_OK) == (channel != NULL), "%s: channel %p for code %d", what,
        (void*)channel, (int)code);
  appwire_error_free(error);
  appwire_options_free(options);
  return channel;
}

static void connect_fails(appwire_options* options, const char* what, appwire_code want,
                          const char* const* words) {
  appwire_channel* channel = NULL;
  appwire_error* error = NULL;
  appwire_code code = appwire_connect(options, &channel, &error);
  check_error(what, code, error, want, words);
  CHECK(channel == NULL, "%s: a channel despite the failure", what);
  appwire_channel_free(channel);
  appwire_error_free(error);
  appwire_options_free(options);
}

/* ---- State changes, recorded by the callback -------------------------- */

struct state_log {
  pthread_mutex_t mu;
  int states[64];
  int count;
  pthread_t shutdown_thread;
  int shutdown_seen;
};

static void record_state(void* user_data, appwire_state state, appwire_code reason_code,
                         const char* reason_message) {
  struct state_log* log = (struct state_log*)user_data;
  pthread_mutex_lock(&log->mu);
  if (log->count < 64) log->states[log->count++] = (int)state;
  if (state == APPWIRE_STATE_SHUTDOWN) {
    log->shutdown_thread = pthread_self();
    log->shutdown_seen = 1;
  }
  pthread_mutex_unlock(&log->mu);
  (void)reason_code;
  (void)reason_message;
}

static int log_has(struct state_log* log, appwire_state state) {
  int found = 0;
  int i;
  pthread_mutex_lock(&log->mu);
  for (i = 0; i < log->count; ++i) found |= log->states[i] == (int)state;
  pthread_mutex_unlock(&log->mu);
  return found;
}

/* ---- Async completions ------------------------------------------------ */

struct completion {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int runs; /* must end at exactly 1 */
  appwire_reply* reply;
  pthread_t thread;
  appwire_channel* free_this; /* freed by the callback when set */
};

static void completion_init(struct completion* c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
}

static void completion_destroy(struct completion* c) {
  appwire_reply_free(c->reply);
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
}

static void on_done(void* user_data, appwire_reply* reply) {
  struct completion* c = (struct completion*)user_data;
  if (c->free_this != NULL) appwire_channel_free(c->free_this);
  pthread_mutex_lock(&c->mu);
  ++c->runs;
  if (c->reply == NULL) {
    c->reply = reply;
  } else {
    appwire_reply_free(reply);
  }
  c->thread = pthread_self();
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* 1 when it ran within `seconds`. */
static int completion_wait(struct completion* c, int seconds) {
  struct timespec until;
  int ran;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock(&c->mu);
  while (c->runs == 0) {
    if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT) break;
  }
  ran = c->runs > 0;
  pthread_mutex_unlock(&c->mu);
  return ran;
}

/* ---- The checks ------------------------------------------------------- */

static void test_names(void) {
  CHECK(strlen(appwire_version()) > 0, "appwire_version is empty");
  CHECK(strcmp(appwire_code_name(APPWIRE_UNAUTHENTICATED), "UNAUTHENTICATED") == 0, "%s",
        appwire_code_name(APPWIRE_UNAUTHENTICATED));
  CHECK(strcmp(appwire_code_name((appwire_code)99), "UNKNOWN") == 0, "%s",
        appwire_code_name((appwire_code)99));
  CHECK(strcmp(appwire_state_name(APPWIRE_STATE_TRANSIENT_FAILURE), "transient failure") == 0,
        "%s", appwire_state_name(APPWIRE_STATE_TRANSIENT_FAILURE));
}

static void test_unary(appwire_channel* channel) {
  appwire_reply* reply = NULL;
  const uint8_t* data;
  size_t size = 0;
  uint8_t request[64];
  size_t request_size = encode_payload(request, "hello from C", 12);
  appwire_call_options* call = NULL;
  appwire_code code;

  code = appwire_call(channel, "appwire.v1.Health/Check", NULL, 0, NULL, &reply);
  check_reply("Health/Check", reply, APPWIRE_OK, NULL);
  CHECK(code == appwire_reply_code(reply), "returned %d, reply says %d", (int)code,
        (int)appwire_reply_code(reply));
  data = appwire_reply_data(reply, &size);
  CHECK(size == 2 && data[0] == 0x08 && data[1] == 0x01,
        "Health/Check replied %zu bytes, not SERVING (08 01)", size);
  CHECK(strcmp(appwire_reply_message(reply), "") == 0, "an OK reply's message: \"%s\"",
        appwire_reply_message(reply));
  appwire_reply_free(reply);

  CHECK(appwire_call_options_new(&call) == APPWIRE_OK, "call_options_new");
  CHECK(appwire_call_options_set_timeout_ms(call, 10000) == APPWIRE_OK, "set_timeout_ms");
  CHECK(appwire_call_options_add_metadata(call, "x-request-id", "42", 2) == APPWIRE_OK,
        "add_metadata");
  CHECK(appwire_call_options_add_metadata(call, "token-bin", "\0\1\2", 3) == APPWIRE_OK,
        "add_metadata -bin");
  code = appwire_call(channel, "appwire.v1.Echo/Echo", request, request_size, call, &reply);
  check_reply("Echo/Echo", reply, APPWIRE_OK, NULL);
  data = appwire_reply_data(reply, &size);
  CHECK(payload_is(data, size, "hello from C", 12), "Echo replied %zu other bytes", size);
  CHECK(appwire_reply_trailers(reply) != NULL, "no trailers object");
  appwire_reply_free(reply);

  /* An empty payload: an empty message both ways. */
  code = appwire_call(channel, "appwire.v1.Echo/Echo", NULL, 0, NULL, &reply);
  check_reply("Echo/Echo empty", reply, APPWIRE_OK, NULL);
  data = appwire_reply_data(reply, &size);
  CHECK(data != NULL && size == 0, "an empty Echo replied %zu bytes", size);
  appwire_reply_free(reply);

  /* Metadata the C++ API refuses, with its words. */
  CHECK(appwire_call_options_clear_metadata(call) == APPWIRE_OK, "clear_metadata");
  CHECK(appwire_call_options_add_metadata(call, "Bad Key", "v", 1) == APPWIRE_OK,
        "add_metadata stores; the call checks");
  code = appwire_call(channel, "appwire.v1.Echo/Echo", request, request_size, call, &reply);
  {
    const char* words[] = {"the request headers of appwire.v1.Echo/Echo", NULL};
    check_reply("Echo with a bad metadata key", reply, APPWIRE_INVALID_ARGUMENT, words);
  }
  appwire_reply_free(reply);
  appwire_call_options_free(call);

  code = appwire_call(channel, "appwire.v1.Echo/NoSuchMethod", NULL, 0, NULL, &reply);
  {
    const char* words[] = {"appwire.v1.Echo/NoSuchMethod", NULL};
    check_reply("an unknown method", reply, APPWIRE_UNIMPLEMENTED, words);
  }
  appwire_reply_free(reply);

  code = appwire_call(NULL, "appwire.v1.Echo/Echo", NULL, 0, NULL, &reply);
  CHECK(code == APPWIRE_INVALID_ARGUMENT, "a NULL channel gave %d", (int)code);
  check_reply("a NULL channel", reply, APPWIRE_INVALID_ARGUMENT, NULL);
  appwire_reply_free(reply);
  CHECK(appwire_call(channel, "appwire.v1.Echo/Echo", NULL, 0, NULL, NULL) ==
            APPWIRE_INVALID_ARGUMENT,
        "a NULL reply pointer is refused");
}

static void test_async(appwire_channel* channel) {
  enum { kCalls = 4 };
  struct completion done[kCalls];
  char payload[kCalls][16];
  int i;
  for (i = 0; i < kCalls; ++i) {
    uint8_t request[32];
    size_t size;
    appwire_code code;
    completion_init(&done[i]);
    snprintf(payload[i], sizeof payload[i], "async %d", i);
    size = encode_payload(request, payload[i], strlen(payload[i]));
    code = appwire_call_async(channel, "appwire.v1.Echo/Echo", request, size, NULL, on_done,
                              &done[i]);
    CHECK(code == APPWIRE_OK, "call_async %d: %d", i, (int)code);
  }
  for (i = 0; i < kCalls; ++i) {
    const uint8_t* data;
    size_t size = 0;
    CHECK(completion_wait(&done[i], 20), "async call %d did not complete", i);
    check_reply("async Echo", done[i].reply, APPWIRE_OK, NULL);
    data = appwire_reply_data(done[i].reply, &size);
    CHECK(payload_is(data, size, payload[i], strlen(payload[i])), "async %d: other bytes", i);
    CHECK(!pthread_equal(done[i].thread, pthread_self()),
          "async %d completed on the calling thread, not the I/O thread", i);
  }
  /* Exactly once: nothing more arrives. */
  {
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  for (i = 0; i < kCalls; ++i) {
    CHECK(done[i].runs == 1, "async call %d completed %d times", i, done[i].runs);
    completion_destroy(&done[i]);
  }

  CHECK(appwire_call_async(channel, "appwire.v1.Echo/Echo", NULL, 0, NULL, NULL, NULL) ==
            APPWIRE_INVALID_ARGUMENT,
        "a NULL callback is refused");
}

static void test_cancel(appwire_channel* channel) {
  appwire_cancel* cancel = NULL;
  appwire_call_options* call = NULL;
  struct completion done;
  appwire_stream* stream = NULL;
  appwire_reply* reply = NULL;
  const uint8_t* data;
  size_t size;

  CHECK(appwire_cancel_new(&cancel) == APPWIRE_OK, "cancel_new");
  CHECK(appwire_call_options_new(&call) == APPWIRE_OK, "call_options_new");
  CHECK(appwire_call_options_set_cancel(call, cancel) == APPWIRE_OK, "set_cancel");

  /* In flight: a stream the server keeps open until we write or end. */
  CHECK(appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_BIDI_STREAMING, NULL,
                            0, call, &stream) == APPWIRE_OK,
        "stream_open");
  CHECK(appwire_cancel_is_cancelled(cancel) == 0, "a new token is cancelled");
  CHECK(appwire_cancel_cancel(cancel) == APPWIRE_OK, "cancel");
  CHECK(appwire_cancel_cancel(cancel) == APPWIRE_OK, "cancel twice");
  CHECK(appwire_cancel_is_cancelled(cancel) == 1, "the token is not cancelled");
  CHECK(appwire_stream_read(stream, &data, &size) == APPWIRE_OUT_OF_RANGE,
        "a cancelled stream still reads");
  appwire_stream_finish(stream, &reply);
  {
    const char* words[] = {"appwire.v1.Echo/EchoStream was cancelled by the client", NULL};
    check_reply("a stream cancelled by its token", reply, APPWIRE_CANCELLED, words);
  }
  appwire_reply_free(reply);
  appwire_stream_free(stream);

  /* Already cancelled: an async call fails at once, on this thread. */
  completion_init(&done);
  CHECK(appwire_call_async(channel, "appwire.v1.Echo/Echo", NULL, 0, call, on_done, &done) ==
            APPWIRE_OK,
        "call_async");
  CHECK(done.runs == 1, "a call with a cancelled token did not complete at once (%d)", done.runs);
  CHECK(done.runs == 0 || pthread_equal(done.thread, pthread_self()),
        "it completed on another thread");
  {
    const char* words[] = {"appwire.v1.Echo/Echo was cancelled before it started", NULL};
    check_reply("an async call with a cancelled token", done.reply, APPWIRE_CANCELLED, words);
  }
  completion_destroy(&done);
  /* The token outlives its handle in the options. */
  appwire_cancel_free(cancel);
  appwire_call(channel, "appwire.v1.Echo/Echo", NULL, 0, call, &reply);
  check_reply("a blocking call with the freed, cancelled token", reply, APPWIRE_CANCELLED, NULL);
  appwire_reply_free(reply);
  appwire_call_options_free(call);

  /* The stream's own cancel. */
  CHECK(appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_BIDI_STREAMING, NULL,
                            0, NULL, &stream) == APPWIRE_OK,
        "stream_open");
  CHECK(appwire_stream_cancel(stream) == APPWIRE_OK, "stream_cancel");
  CHECK(appwire_stream_write(stream, "x", 1) == APPWIRE_OUT_OF_RANGE,
        "a cancelled stream still writes");
  appwire_stream_finish(stream, &reply);
  {
    const char* words[] = {"appwire.v1.Echo/EchoStream was cancelled by the client", NULL};
    check_reply("a stream cancelled", reply, APPWIRE_CANCELLED, words);
  }
  appwire_reply_free(reply);
  appwire_stream_free(stream);
}

static void test_stream(appwire_channel* channel) {
  appwire_stream* stream = NULL;
  appwire_reply* reply = NULL;
  const char* messages[] = {"one", "two", "three"};
  const uint8_t* data = NULL;
  size_t size = 0;
  int i;
  CHECK(appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_BIDI_STREAMING, NULL,
                            0, NULL, &stream) == APPWIRE_OK,
        "stream_open");
  for (i = 0; i < 3; ++i) {
    uint8_t request[32];
    size_t request_size = encode_payload(request, messages[i], strlen(messages[i]));
    appwire_code code = appwire_stream_write(stream, request, request_size);
    CHECK(code == APPWIRE_OK, "write %d: %s", i, appwire_code_name(code));
    code = appwire_stream_read(stream, &data, &size);
    CHECK(code == APPWIRE_OK, "read %d: %s", i, appwire_code_name(code));
    CHECK(code != APPWIRE_OK || payload_is(data, size, messages[i], strlen(messages[i])),
          "message %d came back as %zu other bytes", i, size);
  }
  CHECK(appwire_stream_writes_done(stream) == APPWIRE_OK, "writes_done");
  CHECK(appwire_stream_writes_done(stream) == APPWIRE_OUT_OF_RANGE, "writes_done twice");
  CHECK(appwire_stream_write(stream, "x", 1) == APPWIRE_OUT_OF_RANGE, "write after writes_done");
  CHECK(appwire_stream_read(stream, &data, &size) == APPWIRE_OUT_OF_RANGE,
        "a read after the server's end");
  CHECK(data == NULL && size == 0, "the end read left data");
  CHECK(appwire_stream_finish(stream, &reply) == APPWIRE_OK, "finish: %s",
        appwire_reply_message(reply));
  check_reply("EchoStream", reply, APPWIRE_OK, NULL);
  appwire_reply_free(reply);
  CHECK(appwire_stream_finish(stream, &reply) == APPWIRE_OK, "finish again");
  appwire_reply_free(reply);
  appwire_stream_free(stream);

  /* The server-streaming read loop. No built-in method streams one way,
   * so the server refuses the kind, with its words, and the loop ends at
   * once. */
  {
    uint8_t request[32];
    size_t request_size = encode_payload(request, "once", 4);
    int messages_read = 0;
    const char* words[] = {"appwire.v1.Echo/EchoStream is a bidirectional-streaming method; "
                           "the client called it as server-streaming",
                           NULL};
    CHECK(appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_SERVER_STREAMING,
                              request, request_size, NULL, &stream) == APPWIRE_OK,
          "stream_open server-streaming");
    CHECK(appwire_stream_write(stream, "x", 1) == APPWIRE_OUT_OF_RANGE,
          "a server-streaming call takes no writes");
    while (messages_read < 100 && appwire_stream_read(stream, &data, &size) == APPWIRE_OK) {
      ++messages_read;
    }
    CHECK(messages_read == 0, "%d messages from a refused call", messages_read);
    appwire_stream_finish(stream, &reply);
    check_reply("EchoStream called as server-streaming", reply, APPWIRE_INVALID_ARGUMENT, words);
    appwire_reply_free(reply);
    appwire_stream_free(stream);
  }

  CHECK(appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_UNARY, NULL, 0, NULL,
                            &stream) == APPWIRE_INVALID_ARGUMENT,
        "a unary stream is refused");
  CHECK(stream == NULL, "a refused stream is set");
}

/* One channel, blocking calls from several threads at once: each gets its
 * own reply and message. */
struct worker {
  pthread_t thread;
  appwire_channel* channel;
  int index;
  int mismatches;
};

static void* run_worker(void* argument) {
  struct worker* w = (struct worker*)argument;
  int i;
  for (i = 0; i < 25; ++i) {
    char payload[32];
    uint8_t request[48];
    size_t request_size, size = 0;
    appwire_reply* reply = NULL;
    const uint8_t* data;
    snprintf(payload, sizeof payload, "thread %d call %d", w->index, i);
    request_size = encode_payload(request, payload, strlen(payload));
    if (appwire_call(w->channel, "appwire.v1.Echo/Echo", request, request_size, NULL, &reply) !=
        APPWIRE_OK) {
      ++w->mismatches;
    } else {
      data = appwire_reply_data(reply, &size);
      if (!payload_is(data, size, payload, strlen(payload))) ++w->mismatches;
    }
    appwire_reply_free(reply);
  }
  return NULL;
}

static void test_threads(appwire_channel* channel) {
  enum { kThreads = 4 };
  struct worker workers[kThreads];
  int i;
  for (i = 0; i < kThreads; ++i) {
    workers[i].channel = channel;
    workers[i].index = i;
    workers[i].mismatches = 0;
    CHECK(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) == 0,
          "pthread_create");
  }
  for (i = 0; i < kThreads; ++i) {
    pthread_join(workers[i].thread, NULL);
    CHECK(workers[i].mismatches == 0, "thread %d: %d calls failed or came back wrong", i,
          workers[i].mismatches);
  }
}

/* The channel's default deadline reaches calls that set none; a call's own
 * timeout wins. */
static void test_deadlines(void) {
  appwire_options* options = options_with_ca(cert_file);
  appwire_channel* channel;
  appwire_stream* stream = NULL;
  appwire_reply* reply = NULL;
  appwire_call_options* call = NULL;
  CHECK(appwire_options_set_default_timeout_ms(options, 1000) == APPWIRE_OK, "default timeout");
  CHECK(appwire_options_set_connect_timeout_ms(options, 5000) == APPWIRE_OK, "connect timeout");
  channel = connect_ok(options, "connect with a default timeout");
  if (channel == NULL) return;
  appwire_call(channel, "appwire.v1.Health/Check", NULL, 0, NULL, &reply);
  check_reply("a quick call within the default timeout", reply, APPWIRE_OK, NULL);
  appwire_reply_free(reply);

  /* Finish would end our writes, and the server the call: read instead. */
  appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_BIDI_STREAMING, NULL, 0,
                      NULL, &stream);
  {
    const uint8_t* data;
    size_t size;
    CHECK(appwire_stream_read(stream, &data, &size) == APPWIRE_OUT_OF_RANGE,
          "a read past the deadline");
  }
  appwire_stream_finish(stream, &reply);
  {
    const char* words[] = {"appwire.v1.Echo/EchoStream", NULL};
    check_reply("a stream past the default deadline", reply, APPWIRE_DEADLINE_EXCEEDED, words);
  }
  appwire_reply_free(reply);
  appwire_stream_free(stream);

  CHECK(appwire_call_options_new(&call) == APPWIRE_OK, "call_options_new");
  CHECK(appwire_call_options_set_timeout_ms(call, -1) == APPWIRE_INVALID_ARGUMENT,
        "a negative timeout is refused");
  CHECK(appwire_call_options_set_timeout_ms(call, 100) == APPWIRE_OK, "timeout 100");
  {
    struct timespec start, end;
    double seconds;
    clock_gettime(CLOCK_MONOTONIC, &start);
    appwire_stream_open(channel, "appwire.v1.Echo/EchoStream", APPWIRE_BIDI_STREAMING, NULL, 0,
                        call, &stream);
    const uint8_t* data;
    size_t size;
    CHECK(appwire_stream_read(stream, NULL, NULL) == APPWIRE_INVALID_ARGUMENT, "NULL outputs");
    CHECK(appwire_stream_read(stream, &data, &size) == APPWIRE_OUT_OF_RANGE,
          "a read past the deadline");
    appwire_stream_finish(stream, &reply);
    clock_gettime(CLOCK_MONOTONIC, &end);
    seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    check_reply("a stream past its own deadline", reply, APPWIRE_DEADLINE_EXCEEDED, NULL);
    CHECK(seconds < 0.9, "the call's 100 ms took %.3f s: the default 1000 ms won", seconds);
  }
  appwire_reply_free(reply);
  appwire_stream_free(stream);
  appwire_call_options_free(call);
  appwire_channel_free(channel);
}

static void test_state_and_close(void) {
  struct state_log log;
  appwire_options* options = options_with_ca(cert_file);
  appwire_channel* channel;
  appwire_reply* reply = NULL;
  appwire_error* error = NULL;
  char* value = NULL;
  appwire_code code;
  memset(&log, 0, sizeof log);
  pthread_mutex_init(&log.mu, NULL);
  CHECK(appwire_options_set_state_callback(options, record_state, &log) == APPWIRE_OK,
        "set_state_callback");
  channel = connect_ok(options, "connect with a state callback");
  if (channel == NULL) return;
  code = appwire_channel_wait_for_ready(channel, 5000, &error);
  check_error("wait_for_ready", code, error, APPWIRE_OK, NULL);
  CHECK(appwire_channel_state(channel) == APPWIRE_STATE_READY, "state %s",
        appwire_state_name(appwire_channel_state(channel)));
  CHECK(log_has(&log, APPWIRE_STATE_CONNECTING), "no connecting state reported");
  CHECK(log_has(&log, APPWIRE_STATE_READY), "no ready state reported");

  CHECK(appwire_channel_info(channel, "tls_version", &value) == APPWIRE_OK, "info");
  CHECK(value != NULL && strcmp(value, "TLSv1.3") == 0, "tls_version %s", value ? value : "-");
  appwire_string_free(value);
  CHECK(appwire_channel_info(channel, "server_certificate_sha256", &value) == APPWIRE_OK, "info");
  CHECK(value != NULL && strcmp(value, fingerprint) == 0, "fingerprint %s", value ? value : "-");
  appwire_string_free(value);
  /* The server's hello may follow READY; it precedes any reply. */
  appwire_call(channel, "appwire.v1.Health/Check", NULL, 0, NULL, &reply);
  appwire_reply_free(reply);
  CHECK(appwire_channel_info(channel, "server_software", &value) == APPWIRE_OK, "info");
  CHECK(value != NULL && strncmp(value, "appwire-server ", 15) == 0, "software %s",
        value ? value : "-");
  appwire_string_free(value);
  CHECK(appwire_channel_info(channel, "connections_made", &value) == APPWIRE_OK, "info");
  CHECK(value != NULL && strcmp(value, "1") == 0, "connections_made %s", value ? value : "-");
  appwire_string_free(value);
  CHECK(appwire_channel_info(channel, "no such key", &value) == APPWIRE_INVALID_ARGUMENT,
        "an unknown key");
  CHECK(value == NULL, "an unknown key gave a value");

  CHECK(appwire_channel_close(channel) == APPWIRE_OK, "close");
  CHECK(appwire_channel_close(channel) == APPWIRE_OK, "close twice");
  CHECK(appwire_channel_state(channel) == APPWIRE_STATE_SHUTDOWN, "state after close: %s",
        appwire_state_name(appwire_channel_state(channel)));
  CHECK(log.shutdown_seen && pthread_equal(log.shutdown_thread, pthread_self()),
        "the shut-down state was not reported on the closing thread");
  appwire_call(channel, "appwire.v1.Health/Check", NULL, 0, NULL, &reply);
  {
    const char* words[] = {"is closed", "the client closed the channel", NULL};
    check_reply("a call after close", reply, APPWIRE_FAILED_PRECONDITION, words);
  }
  appwire_reply_free(reply);
  code = appwire_channel_wait_for_ready(channel, 100, &error);
  {
    const char* words[] = {"is closed", NULL};
    check_error("wait_for_ready after close", code, error, APPWIRE_FAILED_PRECONDITION, words);
  }
  appwire_error_free(error);
  appwire_channel_free(channel);
  pthread_mutex_destroy(&log.mu);
}

/* Freeing a channel delivers every completion before it returns, each once;
 * a completion may free its own channel. */
static void test_free(void) {
  enum { kCalls = 8 };
  struct completion done[kCalls];
  struct completion self_free;
  appwire_channel* channel = connect_ok(options_with_ca(cert_file), "connect");
  int i;
  if (channel == NULL) return;
  for (i = 0; i < kCalls; ++i) {
    completion_init(&done[i]);
    appwire_call_async(channel, "appwire.v1.Health/Check", NULL, 0, NULL, on_done, &done[i]);
  }
  appwire_channel_free(channel);
  for (i = 0; i < kCalls; ++i) {
    CHECK(done[i].runs == 1, "call %d completed %d times by the time free returned", i,
          done[i].runs);
    if (done[i].reply != NULL && appwire_reply_code(done[i].reply) != APPWIRE_OK) {
      const char* words[] = {"the client closed the channel", NULL};
      check_reply("a call ended by free", done[i].reply, APPWIRE_CANCELLED, words);
    }
    completion_destroy(&done[i]);
  }

  channel = connect_ok(options_with_ca(cert_file), "connect");
  if (channel == NULL) return;
  completion_init(&self_free);
  self_free.free_this = channel;
  appwire_call_async(channel, "appwire.v1.Health/Check", NULL, 0, NULL, on_done, &self_free);
  CHECK(completion_wait(&self_free, 20), "the self-freeing call did not complete");
  check_reply("a call whose completion frees its channel", self_free.reply, APPWIRE_OK, NULL);
  completion_destroy(&self_free);
}

/* An executor that queues tasks for the main thread, as a UI would. */
struct task_queue {
  pthread_mutex_t mu;
  appwire_task* tasks[256];
  int count;
  int overflow;
};

static void queue_task(void* user_data, appwire_task* task) {
  struct task_queue* queue = (struct task_queue*)user_data;
  pthread_mutex_lock(&queue->mu);
  if (queue->count < 256) {
    queue->tasks[queue->count++] = task;
  } else {
    queue->overflow = 1;
    appwire_task_run(task);
  }
  pthread_mutex_unlock(&queue->mu);
}

/* Runs what is queued, here; returns how many. */
static int run_queued(struct task_queue* queue) {
  appwire_task* tasks[256];
  int count, i;
  pthread_mutex_lock(&queue->mu);
  count = queue->count;
  memcpy(tasks, queue->tasks, sizeof(appwire_task*) * (size_t)count);
  queue->count = 0;
  pthread_mutex_unlock(&queue->mu);
  for (i = 0; i < count; ++i) appwire_task_run(tasks[i]);
  return count;
}

static void test_executor(void) {
  struct task_queue queue;
  struct state_log log;
  struct completion done;
  appwire_options* options = options_with_ca(cert_file);
  appwire_channel* channel;
  int states_before_free, round;
  memset(&queue, 0, sizeof queue);
  pthread_mutex_init(&queue.mu, NULL);
  memset(&log, 0, sizeof log);
  pthread_mutex_init(&log.mu, NULL);
  CHECK(appwire_options_set_executor(options, queue_task, &queue) == APPWIRE_OK, "set_executor");
  appwire_options_set_state_callback(options, record_state, &log);
  channel = connect_ok(options, "connect with an executor");
  if (channel == NULL) return;
  completion_init(&done);
  CHECK(appwire_call_async(channel, "appwire.v1.Health/Check", NULL, 0, NULL, on_done, &done) ==
            APPWIRE_OK,
        "call_async");
  for (round = 0; round < 1000 && done.runs == 0; ++round) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    if (run_queued(&queue) == 0) nanosleep(&pause, NULL);
  }
  CHECK(done.runs == 1, "the completion ran %d times through the executor", done.runs);
  CHECK(done.runs == 0 || pthread_equal(done.thread, pthread_self()),
        "the completion did not run on the thread that ran the task");
  check_reply("a call completed through the executor", done.reply, APPWIRE_OK, NULL);
  CHECK(log_has(&log, APPWIRE_STATE_READY), "the ready state did not come through the executor");
  completion_destroy(&done);

  /* A state change still queued when the channel is freed is dropped. */
  appwire_channel_close(channel);
  pthread_mutex_lock(&log.mu);
  states_before_free = log.count;
  pthread_mutex_unlock(&log.mu);
  appwire_channel_free(channel);
  CHECK(run_queued(&queue) >= 1, "the shut-down state was not queued");
  CHECK(log.count == states_before_free, "%d state changes ran after free",
        log.count - states_before_free);
  CHECK(!queue.overflow, "the task queue overflowed");

  /* A task may be dropped. */
  {
    appwire_task* none = NULL;
    appwire_task_free(none);
    appwire_task_run(none);
  }
  pthread_mutex_destroy(&queue.mu);
  pthread_mutex_destroy(&log.mu);
}

static int copy_file(const char* from, const char* to) {
  char buffer[8192];
  size_t n;
  FILE* in = fopen(from, "rb");
  FILE* out = in == NULL ? NULL : fopen(to, "wb");
  if (out == NULL) {
    if (in != NULL) fclose(in);
    return 0;
  }
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, n, out);
  fclose(in);
  return fclose(out) == 0;
}

static void test_trust(void) {
  char path[4096];
  appwire_options* options;
  appwire_channel* channel;

  {
    const char* words[] = {"TLS handshake with", "certificate verify failed",
                           "is not signed by a CA this client trusts",
                           "add the server's CA to the trusted CA file", NULL};
    connect_fails(options_with_ca(wrong_ca), "the wrong CA", APPWIRE_UNAUTHENTICATED, words);
  }
  {
    /* Port 1 of the loopback: nobody listens there. */
    const char* words[] = {"connecting with 127.0.0.1:1 failed: connection refused", NULL};
    options = options_with_ca(cert_file);
    appwire_options_set_target(options, "127.0.0.1:1");
    connect_fails(options, "no server", APPWIRE_UNAVAILABLE, words);
  }
  {
    const char* words[] = {"certificate verify failed", NULL};
    options = options_with_ca(NULL);
    appwire_options_set_use_system_trust_store(options, 1);
    connect_fails(options, "the system store for a self-signed server", APPWIRE_UNAUTHENTICATED,
                  words);
  }

  options = options_with_ca(NULL);
  CHECK(appwire_options_set_pinned_sha256(options, fingerprint) == APPWIRE_OK, "pin");
  channel = connect_ok(options, "the pinned fingerprint");
  appwire_channel_free(channel);
  {
    const char* wrong =
        "SHA256:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:"
        "AA:AA:AA:AA:AA";
    const char* words[] = {"does not match the pinned fingerprint", wrong, fingerprint, NULL};
    options = options_with_ca(NULL);
    appwire_options_set_pinned_sha256(options, wrong);
    connect_fails(options, "a wrong pin", APPWIRE_UNAUTHENTICATED, words);
  }

  /* A client folder with the server's certificate as its ca.pem. */
  snprintf(path, sizeof path, "%s/client", temp_dir);
  CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
  snprintf(path, sizeof path, "%s/client/ca.pem", temp_dir);
  CHECK(copy_file(cert_file, path), "copy %s to %s", cert_file, path);
  snprintf(path, sizeof path, "%s/client", temp_dir);
  options = options_with_ca(NULL);
  CHECK(appwire_options_set_client_folder(options, path) == APPWIRE_OK, "client folder");
  channel = connect_ok(options, "a client folder's ca.pem");
  appwire_channel_free(channel);

  /* Trust on first use: recorded in known_servers, accepted again. */
  snprintf(path, sizeof path, "%s/tofu", temp_dir);
  CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
  {
    const char* words[] = {"a TLS client must trust the server somehow", NULL};
    options = options_with_ca(NULL);
    appwire_options_set_client_folder(options, path);
    connect_fails(options, "an empty client folder", APPWIRE_INVALID_ARGUMENT, words);
  }
  options = options_with_ca(NULL);
  appwire_options_set_client_folder(options, path);
  CHECK(appwire_options_set_trust_on_first_use(options, 1) == APPWIRE_OK, "tofu");
  channel = connect_ok(options, "trust on first use");
  appwire_channel_free(channel);
  {
    char known[4200];
    char text[1024] = {0};
    FILE* file;
    snprintf(known, sizeof known, "%s/known_servers", path);
    file = fopen(known, "r");
    CHECK(file != NULL, "no %s", known);
    if (file != NULL) {
      size_t n = fread(text, 1, sizeof text - 1, file);
      text[n] = '\0';
      fclose(file);
    }
    CHECK(strstr(text, fingerprint) != NULL, "known_servers lacks %s: \"%s\"", fingerprint, text);
  }
  options = options_with_ca(NULL);
  appwire_options_set_client_folder(options, path);
  channel = connect_ok(options, "a server recorded in known_servers");
  appwire_channel_free(channel);

  /* A client certificate: the server asks for none, but the files load. */
  options = options_with_ca(cert_file);
  CHECK(appwire_options_set_certificate(options, cert_file, key_file) == APPWIRE_OK,
        "set_certificate");
  channel = connect_ok(options, "a client certificate");
  appwire_channel_free(channel);
  {
    const char* words[] = {"/no/such/cert.pem", NULL};
    options = options_with_ca(cert_file);
    appwire_options_set_certificate(options, "/no/such/cert.pem", key_file);
    connect_fails(options, "a missing client certificate", APPWIRE_NOT_FOUND, words);
  }
  {
    const char* words[] = {"both the certificate file and the private key file", NULL};
    options = options_with_ca(cert_file);
    CHECK(appwire_options_set_certificate(options, cert_file, NULL) == APPWIRE_INVALID_ARGUMENT,
          "a certificate without its key is refused");
    connect_fails(options, "a certificate without its key", APPWIRE_INVALID_ARGUMENT, words);
  }

  /* TLS versions: 1.2 allowed (1.3 negotiated); a number that is none. */
  options = options_with_ca(cert_file);
  CHECK(appwire_options_set_min_tls_version(options, APPWIRE_TLS_1_2) == APPWIRE_OK, "min 1.2");
  channel = connect_ok(options, "min TLS 1.2");
  appwire_channel_free(channel);
  {
    const char* words[] = {"kMinTlsVersion (105)", NULL};
    options = options_with_ca(cert_file);
    CHECK(appwire_options_set_min_tls_version(options, (appwire_tls_version)7) ==
              APPWIRE_INVALID_ARGUMENT,
          "min TLS 7 is refused");
    /* The first refusal is what connect reports, not a later one. */
    appwire_options_set_connect_timeout_ms(options, 0);
    connect_fails(options, "min TLS 7", APPWIRE_INVALID_ARGUMENT, words);
  }
  {
    const char* words[] = {"appwire_connect: options is NULL", NULL};
    appwire_error* error = NULL;
    appwire_channel* none = NULL;
    appwire_code code = appwire_connect(NULL, &none, &error);
    check_error("NULL options", code, error, APPWIRE_INVALID_ARGUMENT, words);
    appwire_error_free(error);
  }
  options = options_with_ca(cert_file);
  CHECK(appwire_options_set_parameter_int(options, 1005, 5000) == APPWIRE_OK,
        "kHandshakeTimeout");
  channel = connect_ok(options, "a handshake timeout");
  appwire_channel_free(channel);
}

int main(int argc, char** argv) {
  appwire_channel* channel;
  if (argc != 6) {
    fprintf(stderr, "usage: %s TARGET PROJECT_DIR WRONG_CA_FILE FINGERPRINT TEMP_DIR\n", argv[0]);
    return 2;
  }
  target = argv[1];
  snprintf(cert_file, sizeof cert_file, "%s/cert.pem", argv[2]);
  snprintf(key_file, sizeof key_file, "%s/key.pem", argv[2]);
  wrong_ca = argv[3];
  fingerprint = argv[4];
  temp_dir = argv[5];

  test_names();
  channel = connect_ok(options_with_ca(cert_file), "connect with the server's certificate");
  if (channel == NULL) return 1;
  test_unary(channel);
  test_async(channel);
  test_threads(channel);
  test_stream(channel);
  test_cancel(channel);
  appwire_channel_free(channel);
  test_deadlines();
  test_state_and_close();
  test_free();
  test_executor();
  test_trust();

  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return failures > 100 ? 100 : failures;
  }
  printf("all C API checks passed\n");
  return 0;
}
