//! Transparent decompression of trace files, picked by file-name suffix: `.zst` (zstd, read with
//! ruzstd; several concatenated frames and skippable frames are handled) and `.gz` (gzip, read
//! with flate2's multi-member decoder). Any other file is read as it is.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use ruzstd::frame::ReadFrameHeaderError;
use ruzstd::frame_decoder::FrameDecoderError;
use ruzstd::{BlockDecodingStrategy, FrameDecoder};

use super::{open_file, TraceError};

/// Read-buffer size for compressed and plain trace files.
const FILE_BUFFER_BYTES: usize = 1 << 20;

/// Compression of a trace file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// zstd (`.zst`).
    Zstd,
    /// gzip (`.gz`).
    Gzip,
}

impl Compression {
    /// The compression a file name's suffix says (case-insensitive).
    pub fn from_name(file_name: &str) -> Compression {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else if lower.ends_with(".gz") {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

/// `file_name` without a `.zst`, `.zstd` or `.gz` suffix (expects a lower-case name).
pub fn strip_compression_suffix(file_name: &str) -> &str {
    for suffix in [".zst", ".zstd", ".gz"] {
        if let Some(base) = file_name.strip_suffix(suffix) {
            return base;
        }
    }
    file_name
}

/// Opens `path` for reading, decompressing it on the fly according to its suffix.
pub fn open_decompressed(path: &Path) -> Result<Box<dyn Read + Send>, TraceError> {
    let file = open_file(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(decompress(Box::new(file), Compression::from_name(&name)))
}

/// Wraps `reader` in the decoder for `compression`.
pub fn decompress(reader: Box<dyn Read + Send>, compression: Compression) -> Box<dyn Read + Send> {
    let buffered = BufReader::with_capacity(FILE_BUFFER_BYTES, reader);
    match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(ZstdReader::new(buffered)),
    }
}

/// Zero-progress decode steps tolerated before a zstd stream is declared stuck.
const MAX_STALLS: u32 = 1000;

/// A streaming zstd decoder over any number of concatenated frames.
pub struct ZstdReader<R: BufRead> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdReader<R> {
    /// Decodes the zstd stream `source`.
    pub fn new(source: R) -> ZstdReader<R> {
        ZstdReader {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame; false at the clean end of the input.
    fn start_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped =
                        io::copy(&mut (&mut self.source).take(length as u64), &mut io::sink())?;
                    if skipped < length as u64 {
                        return Err(zstd_error("truncated skippable frame"));
                    }
                }
                Err(e) => return Err(zstd_error(&e.to_string())),
            }
        }
    }
}

/// An I/O error for a bad zstd stream.
fn zstd_error(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {message}"))
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut stalls = 0;
        loop {
            if !self.in_frame {
                if !self.start_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() < out.len() && !self.decoder.is_finished() {
                let before = self.decoder.can_collect();
                let wanted = out.len() - before;
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(wanted))
                    .map_err(|e| zstd_error(&e.to_string()))?;
                if self.decoder.can_collect() == before && !self.decoder.is_finished() {
                    stalls += 1;
                    if stalls > MAX_STALLS {
                        return Err(zstd_error("stream makes no progress"));
                    }
                }
            }
            let n = self.decoder.read(out)?;
            if n > 0 {
                return Ok(n);
            }
            if self.decoder.is_finished() {
                self.in_frame = false;
            } else {
                stalls += 1;
                if stalls > MAX_STALLS {
                    return Err(zstd_error("stream makes no progress"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes() {
        assert_eq!(Compression::from_name("a.bin.zst"), Compression::Zstd);
        assert_eq!(Compression::from_name("a.csv.GZ"), Compression::Gzip);
        assert_eq!(Compression::from_name("a.csv"), Compression::None);
        assert_eq!(
            strip_compression_suffix("a.oraclegeneral.bin.zst"),
            "a.oraclegeneral.bin"
        );
    }

    #[test]
    fn gzip_round_trip_multi_member() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut data = Vec::new();
        for part in [&b"hello "[..], b"world"] {
            let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).unwrap();
            data.extend(enc.finish().unwrap());
        }
        let mut r = decompress(Box::new(io::Cursor::new(data)), Compression::Gzip);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");
    }

    #[test]
    fn garbage_zstd_is_an_error_not_a_panic() {
        let mut r = decompress(
            Box::new(io::Cursor::new(b"this is not zstd at all".to_vec())),
            Compression::Zstd,
        );
        let mut v = Vec::new();
        assert!(r.read_to_end(&mut v).is_err());
    }
}
