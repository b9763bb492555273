//! hc_response: responses.
