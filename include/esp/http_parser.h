/* The HTTP method numbers ESP-IDF's HTTP server uses (http_parser's enum http_method). */
#ifndef HTTP_PARSER_H
#define HTTP_PARSER_H

#ifdef __cplusplus
extern "C" {
#endif

enum http_method {
    HTTP_DELETE = 0,
    HTTP_GET = 1,
    HTTP_HEAD = 2,
    HTTP_POST = 3,
    HTTP_PUT = 4,
    HTTP_CONNECT = 5,
    HTTP_OPTIONS = 6,
    HTTP_TRACE = 7,
    HTTP_PATCH = 28,
};

#ifdef __cplusplus
}
#endif

#endif /* HTTP_PARSER_H */
