//! hc_connection: connections and requests.
