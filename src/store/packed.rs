//! Record and bundle text as the database keeps it: deflated (a zlib BLOB) with a
//! preset dictionary of typical bundles and records (`assets/store/`), which stores
//! a bundle in about a twentieth of its size. Text written before schema 9 is plain
//! TEXT and reads as it is. The text read back is byte for byte the text written
//! (zlib checks it), so a stored bundle is still exactly the message that was sent.
//!
//! A stored value names its dictionary by the dictionary's Adler-32 (zlib's FDICT
//! header), so the dictionary file must never change; a better one would be added
//! beside it, and both read.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

/// Typical bundles and records, frozen: every packed value since schema 9 needs it.
const DICTIONARY: &[u8] = include_bytes!("../../assets/store/pack-dictionary-1.txt");

/// Text stored compressed, as read back (written with [`pack`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Packed(pub String);

/// Compresses `text` as the database stores it.
pub fn pack(text: &str) -> Vec<u8> {
    let mut deflate = Compress::new(Compression::default(), true);
    // Only fails for a dictionary set mid-stream; this one is set first.
    let _ = deflate.set_dictionary(DICTIONARY);
    // The whole input in one call; room for incompressible text plus zlib's framing.
    let mut out = Vec::with_capacity(text.len() + text.len() / 1000 + 64);
    loop {
        let consumed = deflate.total_in() as usize;
        match deflate.compress_vec(
            &text.as_bytes()[consumed..],
            &mut out,
            FlushCompress::Finish,
        ) {
            Ok(Status::StreamEnd) | Err(_) => return out,
            Ok(Status::Ok | Status::BufError) => out.reserve(out.capacity().max(64)),
        }
    }
}

/// Inflates a packed value, supplying the dictionary when the value asks for it.
fn inflate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut inflate = Decompress::new(true);
    let mut out = Vec::with_capacity(bytes.len() * 8 + 64);
    loop {
        let (consumed, produced) = (inflate.total_in() as usize, inflate.total_out());
        if out.len() == out.capacity() {
            out.reserve(out.capacity());
        }
        let status = inflate.decompress_vec(&bytes[consumed..], &mut out, FlushDecompress::Finish);
        match status {
            Ok(Status::StreamEnd) => return Ok(out),
            Ok(_) if inflate.total_in() as usize == consumed && inflate.total_out() == produced => {
                if out.len() < out.capacity() {
                    return Err("the stored value ends too soon".into());
                }
            }
            Ok(_) => {}
            Err(e) => match e.needs_dictionary() {
                Some(id) if id == adler32(DICTIONARY) => {
                    inflate
                        .set_dictionary(DICTIONARY)
                        .map_err(|e| e.to_string())?;
                }
                Some(id) => {
                    return Err(format!(
                        "the stored value needs dictionary {id:08x}, which this vaxentry does not have"
                    ));
                }
                None => return Err(e.to_string()),
            },
        }
    }
}

/// zlib's checksum, which names a dictionary.
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in bytes.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// The text of a stored value: compressed, or plain as older versions wrote it.
fn unpack(value: ValueRef<'_>) -> FromSqlResult<String> {
    let bytes = match value {
        ValueRef::Text(text) => text.to_vec(),
        ValueRef::Blob(bytes) => inflate(bytes).map_err(|e| FromSqlError::Other(e.into()))?,
        _ => return Err(FromSqlError::InvalidType),
    };
    String::from_utf8(bytes).map_err(FromSqlError::other)
}

impl FromSql for Packed {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        unpack(value).map(Packed)
    }
}

/// Reads a column that holds packed text, or NULL.
pub fn optional(r: &rusqlite::Row, column: &str) -> rusqlite::Result<Option<String>> {
    Ok(r.get::<_, Option<Packed>>(column)?.map(|p| p.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(conn: &rusqlite::Connection, bytes: Vec<u8>) -> rusqlite::Result<Packed> {
        conn.query_row("SELECT ?1", [bytes], |r| r.get(0))
    }

    #[test]
    fn text_comes_back_byte_for_byte_from_new_and_old_rows() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v)").unwrap();
        let bundle =
            include_str!("../../assets/examples/adult-flu.json").replace("Astrid", "Nguyễn Thị");
        conn.execute("INSERT INTO t VALUES (?1)", [pack(&bundle)])
            .unwrap();
        conn.execute("INSERT INTO t VALUES ('plain, as schema 8 wrote it')", [])
            .unwrap();
        let mut stmt = conn
            .prepare("SELECT v, typeof(v), length(v) FROM t")
            .unwrap();
        let rows: Vec<(Packed, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows[0].0.0, bundle);
        assert_eq!(rows[0].1, "blob");
        assert!(
            rows[0].2 * 5 < bundle.len() as i64,
            "stored compressed: {}",
            rows[0].2
        );
        assert_eq!(rows[1].0.0, "plain, as schema 8 wrote it");
        // Text unlike the dictionary, long and short, comes back too.
        let conn = &conn;
        for text in [
            "",
            "x",
            &"ሰላም 😀 ".repeat(5000),
            &(0..20000)
                .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
                .collect::<String>(),
        ] {
            assert_eq!(read(conn, pack(text)).unwrap().0, text);
        }
    }

    #[test]
    fn the_dictionary_is_the_one_stored_values_name() {
        // Changing the file would make every value packed since schema 9 unreadable.
        assert_eq!(adler32(DICTIONARY), 0x74c1_5981);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn a_damaged_value_is_an_error_not_a_panic() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let packed = pack("{\"resourceType\": \"Bundle\", \"type\": \"message\"}");
        let mut flipped = packed.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        let mut other_dictionary = packed.clone();
        other_dictionary[2] ^= 0x01;
        for bytes in [
            flipped,
            packed[..packed.len() - 3].to_vec(),
            other_dictionary,
            vec![0x78],
            vec![],
        ] {
            let read = read(&conn, bytes.clone());
            assert!(
                matches!(read, Err(rusqlite::Error::FromSqlConversionFailure(..))),
                "{bytes:?}: {read:?}"
            );
        }
    }
}
