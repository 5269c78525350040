//! The HTTP readiness probe: a GET to a URL of the process's own server, ready when it answers
//! with a status below 500 (a 404 still means the server is up). Only `http://` is probed: a
//! development server's own address; a TLS server is better waited for by its port.

use std::time::Duration;

use ureq::http::Uri;

/// Why `url` cannot be probed, if it cannot.
pub fn check_url(url: &str) -> Result<(), String> {
    let uri = Uri::try_from(url).map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err("only http:// is probed; wait for a TLS server by its port".into())
        }
        _ => return Err("give an http:// URL".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    Ok(())
}

/// The status `url` answers with within `timeout`, or why there was no answer. Redirects are
/// not followed (a 3xx is an answer), and proxies from the environment are not used: the server
/// is the process's own.
pub fn status(url: &str, timeout: Duration) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn urls_that_cannot_be_probed_say_why() {
        assert!(check_url("http://127.0.0.1:5173/").is_ok());
        assert!(check_url("http://localhost/health").is_ok());
        assert!(check_url("https://localhost/")
            .unwrap_err()
            .contains("port"));
        assert!(check_url("localhost:3000").is_err());
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("not a url").is_err());
    }

    /// A server that answers one request with `status` (or hangs up at once when None).
    fn answer_once(status: Option<&'static str>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let Some(status) = status else {
                    return;
                };
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        port
    }

    #[test]
    fn a_server_answering_any_status_is_heard_and_one_hanging_up_is_not() {
        let port = answer_once(Some("404 Not Found"));
        let url = format!("http://127.0.0.1:{port}/");
        assert_eq!(status(&url, Duration::from_secs(5)), Ok(404));
        let port = answer_once(Some("503 Service Unavailable"));
        let url = format!("http://127.0.0.1:{port}/health");
        assert_eq!(status(&url, Duration::from_secs(5)), Ok(503));
        let port = answer_once(None);
        assert!(status(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(5)).is_err());
    }
}
