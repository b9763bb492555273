//! httpclient: an HTTP/1.1 and HTTPS client with Python httplib's API.
//!
//! The core (everything outside `ffi`) is a safe Rust library usable on its own; `ffi` is the
//! C face, and the only place where `unsafe` is allowed.

#![deny(unsafe_code)]

pub mod error;
pub mod status;

#[doc(hidden)]
pub mod ffi;

pub use error::{Error, ErrorKind, Result};
pub mod client;
pub mod connection;
pub mod debug;
pub mod request;
pub mod response;
mod spare;
mod sys;
pub mod transport;
pub mod url;
mod wire;

pub use connection::Connection;
pub use response::Response;
