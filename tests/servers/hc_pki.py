"""Test PKI for the httpclient interop servers, made with the `openssl` command-line tool.

`make_pki(directory)` writes every file below into `directory` and returns a dict
name -> absolute path. Keys are EC P-256 (fast to generate; every TLS stack supports them).

  ca.pem / ca.key                 root CA "httpclient test CA" (the one tests trust)
  ca-dir/                         ca.pem in an `openssl rehash`ed directory (for CA-path tests)
  localhost.pem / .key            SAN DNS:localhost, IP:127.0.0.1, IP:::1, signed by the CA
  expired.pem / .key              SAN DNS:localhost, IP:127.0.0.1; valid 2020-01-01..2021-01-01
  wronghost.pem / .key            SAN DNS:wrong.example only
  ipsan.pem / .key                SAN IP:127.0.0.1 only (no DNS name, CN "127.0.0.1")
  selfsigned.pem / .key           self-signed leaf (CA:FALSE) for localhost / 127.0.0.1 / ::1
  untrusted-ca.pem / .key         a second root CA, "httpclient untrusted CA", nobody trusts it
  untrusted.pem / .key            leaf for localhost / 127.0.0.1 / ::1 signed by the untrusted CA
  client.pem / .key               client certificate (CN "httpclient test client"), from the CA
  untrusted-client.pem / .key     client certificate from the untrusted CA
  mismatched.key                  a private key that matches none of the certificates
"""

import os
import subprocess

CA_SUBJECT = "/O=httpclient/CN=httpclient test CA"
UNTRUSTED_CA_SUBJECT = "/O=httpclient/CN=httpclient untrusted CA"
CLIENT_SUBJECT = "/O=httpclient/OU=tests/CN=httpclient test client"
UNTRUSTED_CLIENT_SUBJECT = "/O=httpclient/OU=tests/CN=httpclient untrusted client"

LOCAL_SAN = "DNS:localhost, IP:127.0.0.1, IP:::1"

# One config file holds every extension profile; `-extensions NAME` picks one.
_EXT_CONFIG = """\
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_localhost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {local_san}

[server_selfsigned]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = {local_san}

[server_wronghost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

[server_ipsan]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# `openssl ca` is only used for the expired certificate: it alone can backdate (OpenSSL 3.0).
[ca]
default_ca = ca_default
[ca_default]
dir = {ca_dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
""".replace("{local_san}", LOCAL_SAN)


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("openssl %s failed (%d):\n%s%s"
                           % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))


def _newkey(name, d):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", name + ".key", cwd=d)


def _csr(name, subject, d):
    _newkey(name, d)
    _openssl("req", "-new", "-config", "ext.cnf", "-key", name + ".key", "-subj", subject,
             "-out", name + ".csr", cwd=d)


def _self_signed(name, subject, ext, d):
    _newkey(name, d)
    _openssl("req", "-new", "-x509", "-config", "ext.cnf", "-extensions", ext, "-key",
             name + ".key", "-subj", subject, "-days", "3650", "-sha256", "-set_serial",
             str(_serial()), "-out", name + ".pem", cwd=d)


def _serial():
    return int.from_bytes(os.urandom(8), "big") >> 1


def _sign(name, subject, ext, ca, d):
    _csr(name, subject, d)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
             "-set_serial", str(_serial()), "-days", "3650", "-sha256", "-extfile", "ext.cnf",
             "-extensions", ext, "-out", name + ".pem", cwd=d)


def _sign_expired(name, subject, ext, ca, d):
    _csr(name, subject, d)
    os.makedirs(os.path.join(d, "ca-db", "newcerts"), exist_ok=True)
    open(os.path.join(d, "ca-db", "index.txt"), "w").close()
    with open(os.path.join(d, "ca-db", "serial"), "w") as f:
        f.write("%016X\n" % _serial())
    _openssl("ca", "-batch", "-notext", "-config", "ext.cnf", "-cert", ca + ".pem", "-keyfile",
             ca + ".key", "-in", name + ".csr", "-out", name + ".pem", "-startdate",
             "20200101000000Z", "-enddate", "20210101000000Z", "-extfile", "ext.cnf",
             "-extensions", ext, cwd=d)


def make_pki(d):
    """Create the test PKI in directory `d` (which must exist); return name -> path."""
    d = os.path.abspath(d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write(_EXT_CONFIG.replace("{ca_dir}", os.path.join(d, "ca-db")))

    _self_signed("ca", CA_SUBJECT, "v3_ca", d)
    _self_signed("untrusted-ca", UNTRUSTED_CA_SUBJECT, "v3_ca", d)
    _sign("localhost", "/O=httpclient/CN=localhost", "server_localhost", "ca", d)
    _sign_expired("expired", "/O=httpclient/CN=localhost", "server_localhost", "ca", d)
    _sign("wronghost", "/O=httpclient/CN=wrong.example", "server_wronghost", "ca", d)
    _sign("ipsan", "/O=httpclient/CN=127.0.0.1", "server_ipsan", "ca", d)
    _self_signed("selfsigned", "/O=httpclient/CN=localhost", "server_selfsigned", d)
    _sign("untrusted", "/O=httpclient/CN=localhost", "server_localhost", "untrusted-ca", d)
    _sign("client", CLIENT_SUBJECT, "client", "ca", d)
    _sign("untrusted-client", UNTRUSTED_CLIENT_SUBJECT, "client", "untrusted-ca", d)
    _newkey("mismatched", d)

    ca_dir = os.path.join(d, "ca-dir")
    os.makedirs(ca_dir, exist_ok=True)
    with open(os.path.join(d, "ca.pem"), "rb") as src, \
            open(os.path.join(ca_dir, "ca.pem"), "wb") as dst:
        dst.write(src.read())
    _openssl("rehash", ca_dir, cwd=d)

    paths = {"ca-dir": ca_dir, "mismatched.key": os.path.join(d, "mismatched.key")}
    for name in ("ca", "untrusted-ca", "localhost", "expired", "wronghost", "ipsan",
                 "selfsigned", "untrusted", "client", "untrusted-client"):
        paths[name + ".pem"] = os.path.join(d, name + ".pem")
        paths[name + ".key"] = os.path.join(d, name + ".key")
    return paths


if __name__ == "__main__":
    import sys
    import time
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    t = time.time()
    for k, v in sorted(make_pki(out).items()):
        print(k, v)
    print("took %.2fs" % (time.time() - t), file=sys.stderr)
