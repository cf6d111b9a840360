//! An OTLP/HTTP body to its message: the content type picks the encoding, `Content-Encoding:
//! gzip` or `zstd` is inflated with a bound (a small body that inflates past it is refused, not
//! read whole).

use std::io::Read;

use prost::Message;
use serde::de::DeserializeOwned;

/// Bodies larger than this on the wire are refused (413).
pub(crate) const MAX_WIRE_BYTES: usize = 8 * 1024 * 1024;
/// Bodies that inflate past this are refused (413).
pub(crate) const MAX_INFLATED_BYTES: usize = 32 * 1024 * 1024;

/// OTLP/HTTP's two encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names (parameters and case ignored), if it is one of OTLP's.
    pub(crate) fn of_content_type(content_type: &str) -> Option<Encoding> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// `message` in this encoding.
    pub(crate) fn encode<M: Message + serde::Serialize>(self, message: &M) -> Vec<u8> {
        match self {
            Encoding::Protobuf => message.encode_to_vec(),
            // Unset fields are left out (the JSON mapping of protobuf), not sent as `null`.
            Encoding::Json => {
                let mut value = serde_json::to_value(message).expect("an OTLP message serializes");
                if let serde_json::Value::Object(fields) = &mut value {
                    fields.retain(|_, v| !v.is_null());
                }
                serde_json::to_vec(&value).expect("a JSON value serializes")
            }
        }
    }
}

/// Why a body was not decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("Content-Encoding {0:?} is not supported: send gzip, zstd or no encoding")]
    UnsupportedEncoding(String),
    #[error("the body inflates to more than {MAX_INFLATED_BYTES} bytes")]
    TooLarge,
    #[error("the {0} body does not inflate: {1}")]
    Compressed(&'static str, std::io::Error),
    #[error("the body is not an OTLP protobuf message: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("the body is not OTLP JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The message in `body`, sent with `content_encoding` (none, `identity` or `gzip`).
pub(crate) fn decode<M: Message + Default + DeserializeOwned>(
    body: &[u8],
    encoding: Encoding,
    content_encoding: Option<&str>,
) -> Result<M, DecodeError> {
    let inflated;
    let bytes = match content_encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => body,
        Some(e) if e.is_empty() || e == "identity" => body,
        Some(e) if e == "gzip" || e == "x-gzip" => {
            inflated = bounded("gzip", flate2::read::MultiGzDecoder::new(body))?;
            &inflated
        }
        Some(e) if e == "zstd" => {
            let decoder =
                ruzstd::decoding::StreamingDecoder::new_with_max_window_size(body, MAX_ZSTD_WINDOW)
                    .map_err(|e| DecodeError::Compressed("zstd", std::io::Error::other(e)))?;
            inflated = bounded("zstd", decoder)?;
            &inflated
        }
        Some(other) => return Err(DecodeError::UnsupportedEncoding(other)),
    };
    Ok(match encoding {
        Encoding::Protobuf => M::decode(bytes)?,
        Encoding::Json => serde_json::from_slice(bytes)?,
    })
}

/// The largest zstd window a body may ask for (what a decoder keeps in memory besides the
/// output).
const MAX_ZSTD_WINDOW: u64 = 8 * 1024 * 1024;

/// What `decoder` inflates to, up to [`MAX_INFLATED_BYTES`].
fn bounded(encoding: &'static str, decoder: impl Read) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    decoder
        .take(MAX_INFLATED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Compressed(encoding, e))?;
    if out.len() > MAX_INFLATED_BYTES {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn content_types_name_the_encoding() {
        assert_eq!(
            Encoding::of_content_type("application/x-protobuf"),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            Encoding::of_content_type("Application/JSON; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::of_content_type("text/plain"), None);
    }

    #[test]
    fn a_gzip_bomb_is_refused_without_being_inflated_whole() {
        let bomb = gzip(&vec![b' '; MAX_INFLATED_BYTES + 1024]);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let refused = decode::<ExportLogsServiceRequest>(&bomb, Encoding::Json, Some("gzip"));
        assert!(matches!(refused, Err(DecodeError::TooLarge)), "{refused:?}");
        let json = br#"{"resourceLogs":[]}"#;
        let decoded =
            decode::<ExportLogsServiceRequest>(&gzip(json), Encoding::Json, Some("gzip")).unwrap();
        assert!(decoded.resource_logs.is_empty());
        assert!(matches!(
            decode::<ExportLogsServiceRequest>(json, Encoding::Json, Some("br")),
            Err(DecodeError::UnsupportedEncoding(_))
        ));
        assert!(matches!(
            decode::<ExportLogsServiceRequest>(
                b"\x1f\x8b\x08garbage",
                Encoding::Json,
                Some("gzip")
            ),
            Err(DecodeError::Compressed("gzip", _))
        ));
    }

    #[test]
    fn zstd_bodies_inflate_within_the_same_bound() {
        use ruzstd::encoding::{compress_to_vec, CompressionLevel};
        let json: &[u8] = br#"{"resourceLogs":[]}"#;
        let zstd = compress_to_vec(json, CompressionLevel::Fastest);
        let decoded =
            decode::<ExportLogsServiceRequest>(&zstd, Encoding::Json, Some("zstd")).unwrap();
        assert!(decoded.resource_logs.is_empty());
        let spaces = vec![b' '; MAX_INFLATED_BYTES + 1024];
        let bomb = compress_to_vec(spaces.as_slice(), CompressionLevel::Fastest);
        assert!(bomb.len() < 2_000_000, "{} bytes", bomb.len());
        let refused = decode::<ExportLogsServiceRequest>(&bomb, Encoding::Json, Some("zstd"));
        assert!(matches!(refused, Err(DecodeError::TooLarge)), "{refused:?}");
        let garbage: &[u8] = b"\x28\xb5\x2f\xfdgarbage";
        assert!(matches!(
            decode::<ExportLogsServiceRequest>(garbage, Encoding::Json, Some("zstd")),
            Err(DecodeError::Compressed("zstd", _))
        ));
    }
}
