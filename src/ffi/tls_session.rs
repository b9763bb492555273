//! The one OpenSSL call the safe core needs that the openssl crate marks unsafe:
//! `SSL_set_session`, which offers a saved session for resumption. It lives here because the
//! crate allows `unsafe` only under `ffi`.

use openssl::ssl::{SslContextRef, SslRef, SslSessionRef};

use crate::error::{Error, ErrorKind, Result};

/// Offers `session`, which came from the context `origin`, for resumption on `ssl`. Refused
/// (an internal error, never undefined behaviour) when `ssl` does not use `origin`.
pub(crate) fn offer_session(
    ssl: &mut SslRef,
    session: &SslSessionRef,
    origin: &SslContextRef,
) -> Result<()> {
    // A reference to an OpenSSL object is the address of that object.
    if !std::ptr::eq(ssl.ssl_context(), origin) {
        return Err(Error::new(
            ErrorKind::Internal,
            "a TLS session offered to a connection of another context",
        ));
    }
    // SAFETY: SSL_set_session requires a session from the same SSL_CTX as `ssl`: `session` was
    // saved by `origin`'s new-session callback (the caller's invariant) and `ssl` was made from
    // `origin` (checked above). OpenSSL takes its own reference to the session.
    unsafe { ssl.set_session(session) }
        .map_err(|e| Error::new(ErrorKind::Tls, format!("offering a TLS session: {e}")))
}
