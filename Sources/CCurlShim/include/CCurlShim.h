#ifndef CCURLSHIM_H
#define CCURLSHIM_H

#include <curl/curl.h>
#include <stddef.h>

/// libcurl is loaded (libcurl.so.4, with dlopen) on the first call of any function below, not at start-up:
/// its thirty-odd libraries cost a few milliseconds that commands making no request should not pay.
/// When it cannot be loaded, the functions fail (CURLE_FAILED_INIT, NULL) and ccurl_load_error says why.
const char *ccurl_load_error(void);

CURLcode ccurl_global_init(long flags);
CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *handle);
CURLcode ccurl_easy_perform(CURL *handle);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line);
void ccurl_slist_free_all(struct curl_slist *list);
void ccurl_free(void *pointer);
CURLU *ccurl_url(void);
void ccurl_url_cleanup(CURLU *url);
CURLUcode ccurl_url_set(CURLU *url, CURLUPart part, const char *content, unsigned int flags);
CURLUcode ccurl_url_get(CURLU *url, CURLUPart part, char **content, unsigned int flags);

/// Typed wrappers around the variadic curl_easy_setopt and curl_easy_getinfo, which Swift cannot call.
CURLcode ccurl_set_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_set_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_set_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_set_slist(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*ccurl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);
CURLcode ccurl_set_write_callback(CURL *handle, ccurl_write_callback callback, void *context);
/// Each response header line (CURLOPT_HEADERFUNCTION), with the write callback's signature.
CURLcode ccurl_set_header_callback(CURL *handle, ccurl_write_callback callback, void *context);
CURLcode ccurl_set_progress_callback(CURL *handle, ccurl_progress_callback callback, void *context);

/// A connection cache shared by the easy handles given it (a share handle with CURL_LOCK_DATA_CONNECT), with a mutex
/// per kind of shared data, so that handles on several threads may use it at once. NULL when libcurl cannot be loaded
/// or the share cannot be made.
typedef struct ccurl_connections ccurl_connections;
ccurl_connections *ccurl_connections_new(void);
/// Closes the cached connections and frees the cache; only once no easy handle uses it. Returns 0 when the cache
/// was still in use, and is then left as it was.
int ccurl_connections_free(ccurl_connections *connections);
/// Makes the handle take its connections from the cache and leave them there (CURLOPT_SHARE).
CURLcode ccurl_set_connections(CURL *handle, ccurl_connections *connections);

CURLcode ccurl_get_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_get_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
/// For string infos (CURLINFO_PRIMARY_IP, CURLINFO_REDIRECT_URL, ...); the text is owned by the handle.
CURLcode ccurl_get_string(CURL *handle, CURLINFO info, const char **value);

#endif
