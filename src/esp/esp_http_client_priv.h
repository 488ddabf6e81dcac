/*
 * A seam of the HTTP client for tests (not installed): the connection under libcurl can be a
 * descriptor the test provides, so that the response path (status line, headers, chunked
 * bodies, redirects) reads bytes from a buffer instead of the network.
 */
#ifndef ESP_HTTP_CLIENT_PRIV_H
#define ESP_HTTP_CLIENT_PRIV_H

/*
 * Returns a connected stream descriptor (e.g. one end of a socketpair holding the response) for
 * each connection the client opens, or -1 to fail that connection. The client owns and closes
 * the descriptor.
 */
typedef int (*esp_http_client_connect_fn)(void *ctx);

/*
 * Makes every client initialised from now on connect through fn instead of a TCP socket (no
 * address is resolved or connected to); NULL restores the network. Not thread-safe: set it
 * before creating clients.
 */
void esp_http_client_set_connect_hook(esp_http_client_connect_fn fn, void *ctx);

#endif /* ESP_HTTP_CLIENT_PRIV_H */
