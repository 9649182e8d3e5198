#include "CCurlShim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    int loaded;
    char error[256];
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    void (*free)(void *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
} curl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static int lookup(void *library, void **slot, const char *name) {
    *slot = dlsym(library, name);
    if (*slot == NULL) snprintf(curl.error, sizeof curl.error, "libcurl.so.4 has no %s", name);
    return *slot != NULL;
}

static void load_curl(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(curl.error, sizeof curl.error, "libcurl cannot be loaded: %s (install libcurl4)", dlerror());
        return;
    }
    curl.loaded = lookup(library, (void **)&curl.global_init, "curl_global_init")
        && lookup(library, (void **)&curl.easy_init, "curl_easy_init")
        && lookup(library, (void **)&curl.easy_cleanup, "curl_easy_cleanup")
        && lookup(library, (void **)&curl.easy_perform, "curl_easy_perform")
        && lookup(library, (void **)&curl.easy_strerror, "curl_easy_strerror")
        && lookup(library, (void **)&curl.easy_setopt, "curl_easy_setopt")
        && lookup(library, (void **)&curl.easy_getinfo, "curl_easy_getinfo")
        && lookup(library, (void **)&curl.slist_append, "curl_slist_append")
        && lookup(library, (void **)&curl.slist_free_all, "curl_slist_free_all")
        && lookup(library, (void **)&curl.free, "curl_free")
        && lookup(library, (void **)&curl.url, "curl_url")
        && lookup(library, (void **)&curl.url_cleanup, "curl_url_cleanup")
        && lookup(library, (void **)&curl.url_set, "curl_url_set")
        && lookup(library, (void **)&curl.url_get, "curl_url_get")
        && lookup(library, (void **)&curl.share_init, "curl_share_init")
        && lookup(library, (void **)&curl.share_setopt, "curl_share_setopt")
        && lookup(library, (void **)&curl.share_cleanup, "curl_share_cleanup");
}

static int ready(void) {
    pthread_once(&curl_once, load_curl);
    return curl.loaded;
}

const char *ccurl_load_error(void) { return ready() ? NULL : curl.error; }

CURLcode ccurl_global_init(long flags) { return ready() ? curl.global_init(flags) : CURLE_FAILED_INIT; }

CURL *ccurl_easy_init(void) { return ready() ? curl.easy_init() : NULL; }

// A handle, list or URL exists only when libcurl was loaded, so the functions taking one need not check.
void ccurl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }

CURLcode ccurl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }

const char *ccurl_easy_strerror(CURLcode code) { return ready() ? curl.easy_strerror(code) : curl.error; }

struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line) {
    return ready() ? curl.slist_append(list, line) : NULL;
}

void ccurl_slist_free_all(struct curl_slist *list) {
    if (list != NULL) curl.slist_free_all(list);
}

void ccurl_free(void *pointer) {
    if (pointer != NULL) curl.free(pointer);
}

CURLU *ccurl_url(void) { return ready() ? curl.url() : NULL; }

void ccurl_url_cleanup(CURLU *url) { curl.url_cleanup(url); }

CURLUcode ccurl_url_set(CURLU *url, CURLUPart part, const char *content, unsigned int flags) {
    return curl.url_set(url, part, content, flags);
}

CURLUcode ccurl_url_get(CURLU *url, CURLUPart part, char **content, unsigned int flags) {
    return curl.url_get(url, part, content, flags);
}

CURLcode ccurl_set_long(CURL *handle, CURLoption option, long value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode ccurl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode ccurl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode ccurl_set_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode ccurl_set_write_callback(CURL *handle, ccurl_write_callback callback, void *context) {
    CURLcode code = curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl.easy_setopt(handle, CURLOPT_WRITEDATA, context);
}

CURLcode ccurl_set_header_callback(CURL *handle, ccurl_write_callback callback, void *context) {
    CURLcode code = curl.easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl.easy_setopt(handle, CURLOPT_HEADERDATA, context);
}

CURLcode ccurl_set_progress_callback(CURL *handle, ccurl_progress_callback callback, void *context) {
    CURLcode code = curl.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
    if (code != CURLE_OK) return code;
    code = curl.easy_setopt(handle, CURLOPT_XFERINFODATA, context);
    if (code != CURLE_OK) return code;
    return curl.easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
}

struct ccurl_connections {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void lock_shared(CURL *handle, curl_lock_data data, curl_lock_access access, void *context) {
    (void)handle;
    (void)access;
    ccurl_connections *connections = context;
    if ((unsigned)data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&connections->locks[data]);
}

static void unlock_shared(CURL *handle, curl_lock_data data, void *context) {
    (void)handle;
    ccurl_connections *connections = context;
    if ((unsigned)data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&connections->locks[data]);
}

ccurl_connections *ccurl_connections_new(void) {
    if (!ready()) return NULL;
    ccurl_connections *connections = calloc(1, sizeof *connections);
    if (connections == NULL) return NULL;
    for (int index = 0; index < CURL_LOCK_DATA_LAST; index++) pthread_mutex_init(&connections->locks[index], NULL);
    connections->share = curl.share_init();
    // The lock functions and their context are set before anything is shared, so no handle ever sees it unlocked.
    if (connections->share == NULL
        || curl.share_setopt(connections->share, CURLSHOPT_USERDATA, connections) != CURLSHE_OK
        || curl.share_setopt(connections->share, CURLSHOPT_LOCKFUNC, lock_shared) != CURLSHE_OK
        || curl.share_setopt(connections->share, CURLSHOPT_UNLOCKFUNC, unlock_shared) != CURLSHE_OK
        || curl.share_setopt(connections->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        if (connections->share != NULL) curl.share_cleanup(connections->share);
        for (int index = 0; index < CURL_LOCK_DATA_LAST; index++) pthread_mutex_destroy(&connections->locks[index]);
        free(connections);
        return NULL;
    }
    return connections;
}

int ccurl_connections_free(ccurl_connections *connections) {
    if (connections == NULL) return 1;
    if (curl.share_cleanup(connections->share) != CURLSHE_OK) return 0;
    for (int index = 0; index < CURL_LOCK_DATA_LAST; index++) pthread_mutex_destroy(&connections->locks[index]);
    free(connections);
    return 1;
}

CURLcode ccurl_set_connections(CURL *handle, ccurl_connections *connections) {
    return curl.easy_setopt(handle, CURLOPT_SHARE, connections->share);
}

CURLcode ccurl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl.easy_getinfo(handle, info, value);
}

CURLcode ccurl_get_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl.easy_getinfo(handle, info, value);
}

CURLcode ccurl_get_string(CURL *handle, CURLINFO info, const char **value) {
    return curl.easy_getinfo(handle, info, value);
}
