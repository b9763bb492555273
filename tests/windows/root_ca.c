/*
 * Test helper (Windows, run under Wine): adds a PEM certificate to, or removes it from, the
 * current user's "ROOT" certificate store, or says whether the store holds it. The Wine test
 * run uses it to check that the DLL trusts the Windows store when no CA file or path is given.
 *
 *   root_ca add|remove|has CERT.pem      exit 0: done / present; 1: absent; 2: error
 */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static BYTE *read_der(const char *path, DWORD *der_len) {
    static char pem[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    BYTE *der;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    *der_len = 0;
    if (!CryptStringToBinaryA(pem, 0, CRYPT_STRING_BASE64HEADER, NULL, der_len, NULL, NULL))
        return NULL;
    der = malloc(*der_len);
    if (der != NULL &&
        !CryptStringToBinaryA(pem, 0, CRYPT_STRING_BASE64HEADER, der, der_len, NULL, NULL)) {
        free(der);
        return NULL;
    }
    return der;
}

int main(int argc, char **argv) {
    DWORD len;
    BYTE *der;
    HCERTSTORE store;
    PCCERT_CONTEXT cert, found;
    int rc = 2;
    if (argc != 3) {
        fprintf(stderr, "usage: root_ca add|remove|has CERT.pem\n");
        return 2;
    }
    der = read_der(argv[2], &len);
    if (der == NULL) {
        fprintf(stderr, "root_ca: %s: not a PEM certificate (%lu)\n", argv[2], GetLastError());
        return 2;
    }
    store = CertOpenSystemStoreA(0, "ROOT");
    cert = CertCreateCertificateContext(X509_ASN_ENCODING, der, len);
    if (store == NULL || cert == NULL) {
        fprintf(stderr, "root_ca: opening the ROOT store: error %lu\n", GetLastError());
        return 2;
    }
    found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, cert, NULL);
    if (strcmp(argv[1], "has") == 0) {
        rc = found != NULL ? 0 : 1;
    } else if (strcmp(argv[1], "add") == 0) {
        rc = CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL)
                 ? 0
                 : 2;
    } else if (strcmp(argv[1], "remove") == 0) {
        if (found == NULL) {
            rc = 0;
        } else {
            rc = CertDeleteCertificateFromStore(found) ? 0 : 2; /* frees `found` */
            found = NULL;
        }
    }
    if (rc == 2) fprintf(stderr, "root_ca %s: error %lu\n", argv[1], GetLastError());
    if (found != NULL) CertFreeCertificateContext(found);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    free(der);
    return rc;
}
