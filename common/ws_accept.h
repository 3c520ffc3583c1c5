/* ws_accept.h: the WebSocket opening handshake's key and its answer (RFC 6455 section 4).
 *
 * The client sends Sec-WebSocket-Key: the base64 of 16 random bytes, fresh for every
 * connection (section 4.1); the server proves it read the request by answering
 * Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the
 * key taken as the 24 characters it was sent as, not decoded (section 4.2.2, step 5.4).
 * Both sides of the lab use these: the client to make a key and check the answer, the
 * server to check a key and make the answer. SHA-1, base64 and the random bytes come from
 * OpenSSL's libcrypto (EVP_Digest, EVP_EncodeBlock, RAND_bytes).
 */
#ifndef PUSHPULL_WS_ACCEPT_H
#define PUSHPULL_WS_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

#define WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN    24 /* base64 of 16 bytes, "==" included */
#define WS_ACCEPT_LEN 28 /* base64 of a 20-byte SHA-1 digest */

/* A fresh Sec-WebSocket-Key: 16 bytes from RAND_bytes, base64, NUL-terminated in out.
 * 0, or -1 when libcrypto has no randomness to give. */
int ws_key_new(char out[WS_KEY_LEN + 1]);
/* Is key (len bytes, the header value trimmed) a valid Sec-WebSocket-Key: base64 that
 * decodes to exactly 16 bytes? */
bool ws_key_valid(const char *key, size_t len);
/* The Sec-WebSocket-Accept value for key (len bytes), NUL-terminated in out. 0, or -1
 * when libcrypto fails or len is absurd (over 1 KiB). */
int ws_accept_for(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

#endif
