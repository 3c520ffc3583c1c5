/* ws_accept.c: Sec-WebSocket-Key and Sec-WebSocket-Accept (ws_accept.h).
 *
 * EVP_EncodeBlock writes standard base64 with padding and a NUL, exactly the form the
 * RFC's example shows ("dGhlIHNhbXBsZSBub25jZQ==" answers "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
 * section 1.3; tests/test_ws_accept.c checks it). EVP_DecodeBlock ignores padding when it
 * counts its output, so a key is checked by its exact shape instead: 22 base64 characters
 * and "==", which is what 16 bytes always encode to.
 */
#include "ws_accept.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define WS_KEY_BYTES  16
#define MAX_KEY_CHARS 1024

int ws_key_new(char out[WS_KEY_LEN + 1])
{
    unsigned char raw[WS_KEY_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw));
    return 0;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

bool ws_key_valid(const char *key, size_t len)
{
    if (len != WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(key[i]))
            return false;
    /* the last character before "==" carries 2 bits of data and 4 zero bits */
    return strchr("AQgw", key[21]) != NULL;
}

int ws_accept_for(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
    char joined[MAX_KEY_CHARS + sizeof(WS_GUID)];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (len > MAX_KEY_CHARS)
        return -1;
    memcpy(joined, key, len);
    memcpy(joined + len, WS_GUID, sizeof(WS_GUID) - 1);
    if (EVP_Digest(joined, len + sizeof(WS_GUID) - 1, digest, &dlen, EVP_sha1(), NULL) !=
            1 ||
        dlen != 20)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, digest, 20);
    return 0;
}
