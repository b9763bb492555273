//! Starting a request and building its head: putrequest and putheader, and the checks a
//! whole request passes before anything of it is written.

use super::{Connection, Pending, State};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, GivenHeaders};
use crate::url::absolute_url_authority;

impl Connection {
    fn begin_request(&mut self, method: &[u8], url: &[u8], skip_host: bool, skip_ae: bool) {
        self.out.clear();
        self.given = GivenHeaders::default();
        request::write_request_line(&mut self.out, method, url);
        if !skip_host {
            let host = match absolute_url_authority(url) {
                Some(a) => a,
                // The tunnel's end when there is one (fields borrowed apart from `out`).
                None => self
                    .tunnel
                    .as_ref()
                    .map_or(&self.target, |t| &t.origin)
                    .host_header()
                    .as_bytes(),
            };
            request::write_header(&mut self.out, b"Host", host);
        }
        if !skip_ae {
            request::write_header(&mut self.out, b"Accept-Encoding", b"identity");
        }
        self.state = State::Started(Pending::new(method));
    }

    fn cannot_send_request(&self) -> Error {
        Error::new(
            ErrorKind::CannotSendRequest,
            match self.state {
                State::Started(_) => "a request is being built: finish it with endheaders",
                _ => "a request was sent: read its response with getresponse first",
            },
        )
    }

    /// Starts a request (httplib's putrequest): `skip_host` and `skip_accept_encoding` leave
    /// out the automatic headers.
    pub fn putrequest(
        &mut self,
        method: &[u8],
        url: &[u8],
        skip_host: bool,
        skip_accept_encoding: bool,
    ) -> Result<()> {
        self.want = 0;
        self.nb_refuse_other("putrequest")?;
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        let url = crate::url::request_target(url)?;
        self.begin_request(method, &url, skip_host, skip_accept_encoding);
        Ok(())
    }

    /// Adds a header to the request being built (httplib's putheader).
    pub fn putheader(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        self.add_header(name, value, true)
    }

    /// [`Connection::putheader`] for a header the caller made itself and knows to be valid (the
    /// URL-level client's constant User-Agent and Accept-Encoding): the checks are skipped,
    /// which is most of a header's cost on a warm request.
    pub(crate) fn putheader_trusted(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        debug_assert!(request::check_header_name(name).is_ok());
        debug_assert!(request::check_header_value(name, value).is_ok());
        self.add_header(name, value, false)
    }

    /// putheader, with or without the checks of the name and value (made after the state's).
    fn add_header(&mut self, name: &[u8], value: &[u8], check: bool) -> Result<()> {
        self.want = 0;
        self.nb_refuse_other("putheader")?;
        if !matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "putheader needs a request started with putrequest and not yet ended",
            ));
        }
        if check {
            request::check_header_name(name)?;
            request::check_header_value(name, value)?;
        }
        self.given.note(name, value);
        request::write_header(&mut self.out, name, value);
        Ok(())
    }

    /// Checks a whole request's method, URL and headers before anything is written, then
    /// starts it: the request line, the automatic headers the caller does not give, and the
    /// caller's. Returns what the caller's headers say.
    pub(super) fn start_whole_request(
        &mut self,
        method: &[u8],
        url: &[u8],
        headers: &[(&[u8], &[u8])],
    ) -> Result<GivenHeaders> {
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        let url = crate::url::request_target(url)?;
        let mut given = GivenHeaders::default();
        for (n, v) in headers {
            request::check_header_name(n)?;
            request::check_header_value(n, v)?;
            given.note(n, v);
        }
        given.check()?;
        self.begin_request(method, &url, given.host, given.accept_encoding);
        for (n, v) in headers {
            request::write_header(&mut self.out, n, v);
        }
        Ok(given)
    }
}
