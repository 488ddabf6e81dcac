/* lwIP's BSD socket API (lwip/sockets.h): on the host, the system's own sockets. */
#ifndef LWIP_SOCKETS_H
#define LWIP_SOCKETS_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#endif /* LWIP_SOCKETS_H */
