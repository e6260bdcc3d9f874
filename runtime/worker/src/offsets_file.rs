//! The standalone worker's offsets file (`offset.storage.file.filename`, COMPAT §3.5).
//!
//! Kafka Connect stores it as Java object serialization of a `java.util.HashMap<byte[], byte[]>`
//! whose entries are offsets-topic key/value bytes ([`crate::offset_key`]); a null value means
//! the offset was deleted. Ferry reads and writes the same bytes so a standalone worker can be
//! swapped in either direction without losing source positions.
//!
//! The writer reproduces `ObjectOutputStream`'s output byte for byte (entry order aside: Java's
//! own order follows identity hash codes and is not reproducible, and readers do not care). The
//! reader accepts what Java writes, however its handles are laid out, and rejects anything else
//! with the byte offset and reason rather than guessing.
//!
//! Differences from Java, on purpose:
//! * Java treats a truncated file (`EOFException`) as "no offsets" and silently restarts every
//!   source from scratch; here it is an error. A missing or empty file is still "no offsets".
//! * Writes are atomic (temp file, fsync, rename, fsync directory), so a crash never leaves a
//!   truncated file behind; Java overwrites in place.
//! * Entries with a null *key* (which Connect never writes) are dropped on read.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One stored offset: the offsets-topic key bytes and value bytes (`None`: offset deleted).
pub type OffsetEntry = (Vec<u8>, Option<Vec<u8>>);

// Java serialization stream constants (java.io.ObjectStreamConstants).
const STREAM_HEADER: [u8; 4] = [0xac, 0xed, 0x00, 0x05];
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_BLOCKDATALONG: u8 = 0x7a;
const TC_LONGSTRING: u8 = 0x7c;
const BASE_WIRE_HANDLE: u32 = 0x7e_0000;
const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;

const HASHMAP_CLASS: &str = "java.util.HashMap";
const HASHMAP_SUID: u64 = 362_498_820_763_181_265;
const BYTE_ARRAY_CLASS: &str = "[B";
const BYTE_ARRAY_SUID: u64 = 0xacf3_17f8_0608_54e0;
/// Handle of the `[B` class descriptor in what [`encode`] writes: after the HashMap class
/// descriptor (0x7e0000) and the HashMap object (0x7e0001).
const BYTE_ARRAY_DESC_HANDLE: u32 = BASE_WIRE_HANDLE + 2;

/// Why an offsets file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OffsetsFileError {
    /// Reading failed (other than the file not existing, which means "no offsets").
    #[error("cannot read offsets file {}: {source}", path.display())]
    Read {
        /// The offsets file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing or replacing the file failed; the previous file is left as it was.
    #[error("cannot write offsets file {}: {source}", path.display())]
    Write {
        /// The offsets file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not a serialized `HashMap<byte[], byte[]>`.
    #[error(
        "offsets file {} is not a Java-serialized HashMap<byte[], byte[]> as Kafka Connect \
         writes it: {problem}",
        path.display()
    )]
    Malformed {
        /// The offsets file.
        path: PathBuf,
        /// Where and what.
        problem: DecodeError,
    },
}

/// Where and why [`decode`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {problem}")]
pub struct DecodeError {
    /// Byte offset into the stream.
    pub offset: usize,
    /// What was expected or wrong there.
    pub problem: String,
}

/// Reads the offsets file. A missing or empty file holds no offsets. Entries come in file order;
/// should two carry equal key bytes (Java's map compares `byte[]` keys by identity), the later
/// one wins when loaded into a map, as in Java's `FileOffsetBackingStore`.
pub fn read_offsets_file(path: &Path) -> Result<Vec<OffsetEntry>, OffsetsFileError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(OffsetsFileError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    decode(&bytes).map_err(|problem| OffsetsFileError::Malformed {
        path: path.to_owned(),
        problem,
    })
}

/// Replaces the offsets file atomically: the bytes go to a temporary file in the same
/// directory, which is fsynced and renamed over `path`, and then the directory is fsynced. A
/// crash leaves either the old file or the new one, never a torn one.
pub fn write_offsets_file(path: &Path, entries: &[OffsetEntry]) -> Result<(), OffsetsFileError> {
    let fail = |source| OffsetsFileError::Write {
        path: path.to_owned(),
        source,
    };
    let file_name = path.file_name().ok_or_else(|| {
        fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ))
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);

    let bytes = encode(entries);
    let replace = || -> io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        sync_dir(dir)
    };
    replace().map_err(|source| {
        // Best effort: after a successful rename there is nothing left to remove.
        let _ = fs::remove_file(&temp);
        fail(source)
    })
}

/// Makes a rename durable. Only Unix can open and fsync a directory.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `(capacity, threshold)` of a `HashMap` built with `new HashMap<>()` and `size` puts, as its
/// `writeObject` reports them: capacity is the smallest power of two ≥ 16 with
/// `size ≤ capacity × 0.75`, threshold is `capacity × 0.75`. A map never put into has no table
/// yet, so Java writes threshold 0 and capacity 16.
fn hashmap_sizing(size: usize) -> (i32, i32) {
    const MAX_CAPACITY: u64 = 1 << 30;
    if size == 0 {
        return (16, 0);
    }
    let mut capacity: u64 = 16;
    while capacity * 3 / 4 < size as u64 && capacity < MAX_CAPACITY {
        capacity *= 2;
    }
    let threshold = if capacity == MAX_CAPACITY {
        i32::MAX
    } else {
        (capacity * 3 / 4) as i32
    };
    (capacity as i32, threshold)
}

/// Serializes entries as Java's `ObjectOutputStream` writes a `HashMap<byte[], byte[]>`.
///
/// # Panics
/// If there are more than `i32::MAX` entries or an array is longer than `i32::MAX` bytes,
/// which Java cannot represent either.
pub fn encode(entries: &[OffsetEntry]) -> Vec<u8> {
    fn java_int(len: usize) -> [u8; 4] {
        i32::try_from(len)
            .expect("Java arrays and maps hold at most i32::MAX elements")
            .to_be_bytes()
    }
    fn utf(out: &mut Vec<u8>, s: &str) {
        // Class and field names here are ASCII, where modified UTF-8 is plain UTF-8.
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    let total: usize = entries
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + 20)
        .sum();
    let mut out = Vec::with_capacity(128 + total);
    out.extend_from_slice(&STREAM_HEADER);

    // The HashMap's class descriptor: two primitive fields, custom writeObject, no superclass.
    out.extend_from_slice(&[TC_OBJECT, TC_CLASSDESC]);
    utf(&mut out, HASHMAP_CLASS);
    out.extend_from_slice(&HASHMAP_SUID.to_be_bytes());
    out.push(SC_WRITE_METHOD | SC_SERIALIZABLE);
    out.extend_from_slice(&2u16.to_be_bytes());
    out.push(b'F');
    utf(&mut out, "loadFactor");
    out.push(b'I');
    utf(&mut out, "threshold");
    out.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);

    // defaultWriteObject: the fields; then the custom part: capacity and size as block data.
    let (capacity, threshold) = hashmap_sizing(entries.len());
    out.extend_from_slice(&0.75f32.to_be_bytes());
    out.extend_from_slice(&threshold.to_be_bytes());
    out.extend_from_slice(&[TC_BLOCKDATA, 8]);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&java_int(entries.len()));

    let mut byte_array_desc_written = false;
    let mut write_array = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.push(TC_ARRAY);
        if byte_array_desc_written {
            out.push(TC_REFERENCE);
            out.extend_from_slice(&BYTE_ARRAY_DESC_HANDLE.to_be_bytes());
        } else {
            out.push(TC_CLASSDESC);
            utf(out, BYTE_ARRAY_CLASS);
            out.extend_from_slice(&BYTE_ARRAY_SUID.to_be_bytes());
            out.push(SC_SERIALIZABLE);
            out.extend_from_slice(&0u16.to_be_bytes());
            out.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
            byte_array_desc_written = true;
        }
        out.extend_from_slice(&java_int(bytes.len()));
        out.extend_from_slice(bytes);
    };
    for (key, value) in entries {
        write_array(&mut out, key);
        match value {
            Some(value) => write_array(&mut out, value),
            None => out.push(TC_NULL),
        }
    }
    out.push(TC_ENDBLOCKDATA);
    out
}

/// Deserializes a Java-serialized `HashMap<byte[], byte[]>`, in stream order. Entries with a
/// null key are dropped (see the module docs).
pub fn decode(bytes: &[u8]) -> Result<Vec<OffsetEntry>, DecodeError> {
    let mut reader = StreamReader {
        bytes,
        pos: 0,
        handles: Vec::new(),
    };
    let entries = reader.hashmap()?;
    if reader.pos != bytes.len() {
        return Err(reader.error(format!(
            "{} unexpected bytes after the HashMap",
            bytes.len() - reader.pos
        )));
    }
    Ok(entries)
}

/// What a stream handle (0x7e0000 + n, assigned in order of appearance) refers to.
#[derive(Debug, Clone)]
enum Handle {
    /// Assigned, but its object is still being read.
    Pending,
    ClassDesc(ClassDesc),
    HashMap,
    ByteArray(Range<usize>),
}

impl Handle {
    /// For error messages: what a reference points at.
    fn describe(&self) -> String {
        match self {
            Handle::Pending => "an object still being read".to_owned(),
            Handle::ClassDesc(desc) => {
                format!("the descriptor of {}", ClassDesc::describe(Some(desc)))
            }
            Handle::HashMap => "the HashMap itself".to_owned(),
            Handle::ByteArray(_) => "a byte[]".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct ClassDesc {
    name: String,
    suid: u64,
    flags: u8,
    /// Type code and name of each serializable field, in stream order.
    fields: Vec<(u8, String)>,
    has_superclass: bool,
}

impl ClassDesc {
    /// For error messages: what a class descriptor (or null) says.
    fn describe(desc: Option<&ClassDesc>) -> String {
        match desc {
            None => "no class (TC_NULL)".to_owned(),
            Some(d) => format!(
                "class {} (serialVersionUID {}, flags 0x{:02x}, {} fields{})",
                d.name,
                d.suid,
                d.flags,
                d.fields.len(),
                if d.has_superclass {
                    ", with a serializable superclass"
                } else {
                    ""
                }
            ),
        }
    }
}

/// A cursor over a serialization stream that knows exactly the shapes a
/// `HashMap<byte[], byte[]>` can take.
struct StreamReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
}

impl StreamReader<'_> {
    fn error(&self, problem: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            problem: problem.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], DecodeError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(self.error(format!(
                "stream ends inside {what} (needs {n} bytes, {} left)",
                self.bytes.len() - self.pos
            ))),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N, what)?;
        Ok(slice.try_into().expect("take returns exactly N bytes"))
    }

    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn utf(&mut self, what: &str) -> Result<String, DecodeError> {
        let len = u16::from_be_bytes(self.array(what)?) as usize;
        let at = self.pos;
        let raw = self.take(len, what)?;
        // Modified UTF-8 equals UTF-8 for everything but NUL and supplementary characters,
        // neither of which appears in the names this reader accepts.
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeError {
            offset: at,
            problem: format!("{what} is not valid UTF-8"),
        })
    }

    fn expect(&mut self, code: u8, what: &str) -> Result<(), DecodeError> {
        let found = self.u8(what)?;
        if found == code {
            Ok(())
        } else {
            self.pos -= 1;
            Err(self.error(format!(
                "expected {what} (0x{code:02x}), found 0x{found:02x}"
            )))
        }
    }

    fn new_handle(&mut self) -> usize {
        self.handles.push(Handle::Pending);
        self.handles.len() - 1
    }

    /// Reads a TC_REFERENCE's handle (after its type code) and returns what it refers to.
    fn reference(&mut self) -> Result<Handle, DecodeError> {
        let at = self.pos;
        let wire = u32::from_be_bytes(self.array("a handle")?);
        let handle = wire
            .checked_sub(BASE_WIRE_HANDLE)
            .and_then(|n| self.handles.get(n as usize));
        match handle {
            Some(Handle::Pending) | None => Err(DecodeError {
                offset: at,
                problem: format!("reference to unknown handle 0x{wire:08x}"),
            }),
            Some(handle) => Ok(handle.clone()),
        }
    }

    /// `classDesc`: a new descriptor, a reference to one, or null.
    fn class_desc(&mut self) -> Result<Option<ClassDesc>, DecodeError> {
        let at = self.pos;
        match self.u8("a class descriptor")? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.reference()? {
                Handle::ClassDesc(desc) => Ok(Some(desc)),
                other => Err(DecodeError {
                    offset: at,
                    problem: format!(
                        "expected a class descriptor, the reference is to {}",
                        other.describe()
                    ),
                }),
            },
            TC_CLASSDESC => self.new_class_desc().map(Some),
            code => Err(DecodeError {
                offset: at,
                problem: format!("expected a class descriptor, found type code 0x{code:02x}"),
            }),
        }
    }

    /// `newClassDesc` after its TC_CLASSDESC.
    fn new_class_desc(&mut self) -> Result<ClassDesc, DecodeError> {
        let name = self.utf("a class name")?;
        let suid = u64::from_be_bytes(self.array("a serialVersionUID")?);
        let handle = self.new_handle();
        let flags = self.u8("class flags")?;
        let count = u16::from_be_bytes(self.array("a field count")?);
        let mut fields = Vec::with_capacity(count.into());
        for _ in 0..count {
            let at = self.pos;
            let code = self.u8("a field type code")?;
            let field = self.utf("a field name")?;
            match code {
                b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                _ => {
                    return Err(DecodeError {
                        offset: at,
                        problem: format!(
                            "class {name} has field `{field}` of type code 0x{code:02x}; only \
                             primitive fields are expected"
                        ),
                    })
                }
            }
            fields.push((code, field));
        }
        // Class annotations: ObjectOutputStream writes none for these classes.
        self.expect(TC_ENDBLOCKDATA, "the end of the class annotations")?;
        let has_superclass = self.class_desc()?.is_some();
        let desc = ClassDesc {
            name,
            suid,
            flags,
            fields,
            has_superclass,
        };
        self.handles[handle] = Handle::ClassDesc(desc.clone());
        Ok(desc)
    }

    fn hashmap(&mut self) -> Result<Vec<OffsetEntry>, DecodeError> {
        if self.take(4, "the stream header")? != STREAM_HEADER {
            self.pos = 0;
            return Err(self.error("no Java serialization stream header (ac ed 00 05)"));
        }
        self.expect(TC_OBJECT, "an object (TC_OBJECT)")?;
        let at = self.pos;
        let desc = match self.class_desc()? {
            Some(d)
                if d.name == HASHMAP_CLASS
                    && d.suid == HASHMAP_SUID
                    && d.flags == SC_WRITE_METHOD | SC_SERIALIZABLE
                    && !d.has_superclass =>
            {
                d
            }
            other => {
                return Err(DecodeError {
                    offset: at,
                    problem: format!(
                        "expected class {HASHMAP_CLASS} (serialVersionUID {HASHMAP_SUID}, flags \
                         0x03, no serializable superclass), found {}",
                        ClassDesc::describe(other.as_ref())
                    ),
                })
            }
        };
        let handle = self.new_handle();
        self.handles[handle] = Handle::HashMap;

        // defaultReadObject: the fields, in descriptor order.
        let mut load_factor = 0f32;
        for (code, field) in &desc.fields {
            let size = match code {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'F' | b'I' => 4,
                _ => 8,
            };
            let value = self.take(size, "the HashMap's fields")?;
            if *code == b'F' && field == "loadFactor" {
                load_factor = f32::from_be_bytes(value.try_into().expect("4 bytes"));
            }
        }
        if load_factor.is_nan() || load_factor <= 0.0 {
            return Err(self.error(format!("illegal HashMap load factor {load_factor}")));
        }

        // Custom data: capacity (ignored, as Java does) and size, then the entries.
        let block = self.block_data(8)?;
        let size = i32::from_be_bytes(block[4..8].try_into().expect("4 bytes"));
        let Ok(size) = usize::try_from(size) else {
            return Err(self.error(format!("negative HashMap size {size}")));
        };
        let mut entries = Vec::with_capacity(size.min((self.bytes.len() - self.pos) / 2));
        for _ in 0..size {
            let key = self.nullable_byte_array("a key")?;
            let value = self.nullable_byte_array("a value")?;
            if let Some(key) = key {
                entries.push((key, value));
            }
        }
        self.expect(TC_ENDBLOCKDATA, "the end of the HashMap (TC_ENDBLOCKDATA)")?;
        Ok(entries)
    }

    /// Reads exactly `n` bytes of block data, which may be split over several blocks.
    fn block_data(&mut self, n: usize) -> Result<Vec<u8>, DecodeError> {
        let mut data = Vec::with_capacity(n);
        while data.len() < n {
            let at = self.pos;
            let len = match self.u8("block data")? {
                TC_BLOCKDATA => usize::from(self.u8("a block length")?),
                TC_BLOCKDATALONG => {
                    let len = self.i32("a block length")?;
                    usize::try_from(len).map_err(|_| self.error("negative block length"))?
                }
                code => {
                    return Err(DecodeError {
                        offset: at,
                        problem: format!(
                            "expected the HashMap's capacity and size as block data, found \
                             type code 0x{code:02x}"
                        ),
                    })
                }
            };
            if data.len() + len > n {
                return Err(DecodeError {
                    offset: at,
                    problem: format!("block data longer than the expected {n} bytes"),
                });
            }
            data.extend_from_slice(self.take(len, "block data")?);
        }
        Ok(data)
    }

    /// A `byte[]` (new or referenced) or null; `what` says which (key/value) for errors.
    fn nullable_byte_array(&mut self, what: &str) -> Result<Option<Vec<u8>>, DecodeError> {
        let at = self.pos;
        let fail = |problem: String| DecodeError {
            offset: at,
            problem: format!("{what} of the HashMap: {problem}"),
        };
        let range = match self.u8(what)? {
            TC_NULL => return Ok(None),
            TC_REFERENCE => match self.reference()? {
                Handle::ByteArray(range) => range,
                other => {
                    return Err(fail(format!(
                        "expected a byte[], the reference is to {}",
                        other.describe()
                    )))
                }
            },
            TC_ARRAY => {
                let desc = self.class_desc()?;
                let is_byte_array = desc.as_ref().is_some_and(|d| {
                    d.name == BYTE_ARRAY_CLASS
                        && d.fields.is_empty()
                        && d.flags == SC_SERIALIZABLE
                        && !d.has_superclass
                });
                if !is_byte_array {
                    return Err(fail(format!(
                        "expected an array of class [B, found {}",
                        ClassDesc::describe(desc.as_ref())
                    )));
                }
                let handle = self.new_handle();
                let len = self.i32("an array length")?;
                let len = usize::try_from(len)
                    .map_err(|_| fail(format!("negative array length {len}")))?;
                let start = self.pos;
                self.take(len, "a byte[]")?;
                let range = start..self.pos;
                self.handles[handle] = Handle::ByteArray(range.clone());
                range
            }
            TC_STRING | TC_LONGSTRING => {
                return Err(fail("expected a byte[] or null, found a String".to_owned()))
            }
            code => {
                return Err(fail(format!(
                    "expected a byte[] or null, found type code 0x{code:02x}"
                )))
            }
        };
        Ok(Some(self.bytes[range].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
            .collect()
    }

    /// COMPAT §3.5's example, byte by byte: two entries, the second with a null value.
    fn golden() -> (Vec<OffsetEntry>, Vec<u8>) {
        let key1 = br#"["c",{"p":"a"}]"#.to_vec(); // 15 bytes
        let value1 = br#"{"o":1}"#.to_vec(); // 7 bytes
        let key2 = br#"["c",{"p":"b"}]"#.to_vec();
        let mut bytes = hex("ac ed 00 05"); // stream magic + version
        bytes.extend(hex("73 72 00 11")); // TC_OBJECT, TC_CLASSDESC, name length
        bytes.extend(b"java.util.HashMap");
        bytes.extend(hex("05 07 da c1 c3 16 60 d1")); // serialVersionUID
        bytes.extend(hex("03 00 02")); // flags, 2 fields
        bytes.extend(hex("46 00 0a"));
        bytes.extend(b"loadFactor");
        bytes.extend(hex("49 00 09"));
        bytes.extend(b"threshold");
        bytes.extend(hex("78 70")); // end of annotations, no superclass
        bytes.extend(hex("3f 40 00 00  00 00 00 0c")); // loadFactor 0.75, threshold 12
        bytes.extend(hex("77 08  00 00 00 10  00 00 00 02")); // capacity 16, size 2
        bytes.extend(hex("75 72 00 02")); // TC_ARRAY, TC_CLASSDESC "[B"
        bytes.extend(b"[B");
        bytes.extend(hex("ac f3 17 f8 06 08 54 e0 02 00 00 78 70"));
        bytes.extend(hex("00 00 00 0f"));
        bytes.extend(&key1);
        bytes.extend(hex("75 71 00 7e 00 02  00 00 00 07")); // TC_REFERENCE to "[B"
        bytes.extend(&value1);
        bytes.extend(hex("75 71 00 7e 00 02  00 00 00 0f"));
        bytes.extend(&key2);
        bytes.extend(hex("70")); // null value
        bytes.extend(hex("78")); // TC_ENDBLOCKDATA
        (vec![(key1, Some(value1)), (key2, None)], bytes)
    }

    #[test]
    fn golden_bytes_both_ways() {
        let (entries, bytes) = golden();
        assert_eq!(encode(&entries), bytes);
        assert_eq!(decode(&bytes).unwrap(), entries);
    }

    #[test]
    fn sizing_follows_java_hashmap() {
        let cases = [
            (0, (16, 0)),
            (1, (16, 12)),
            (12, (16, 12)),
            (13, (32, 24)),
            (24, (32, 24)),
            (25, (64, 48)),
            (1000, (2048, 1536)),
        ];
        for (size, expected) in cases {
            assert_eq!(hashmap_sizing(size), expected, "size {size}");
        }
        // Where those numbers land in the stream: threshold right after loadFactor, then the block.
        let empty = encode(&[]);
        assert_eq!(
            empty[empty.len() - 19..],
            hex("3f400000 00000000 7708 00000010 00000000 78")
        );
    }

    #[test]
    fn round_trips_a_thousand_entries() {
        let entries: Vec<OffsetEntry> = (0..1000)
            .map(|i| {
                let key = format!(r#"["conn-{}",{{"file":"f{i}"}}]"#, i % 7).into_bytes();
                let value =
                    (i % 10 != 3).then(|| format!(r#"{{"position":{}}}"#, i * 1000).into_bytes());
                (key, value)
            })
            .collect();
        let bytes = encode(&entries);
        assert_eq!(
            bytes[63..81],
            hex("3f400000 00000600 7708 00000800 000003e8"),
            "loadFactor, threshold 1536, capacity 2048, size 1000"
        );
        assert_eq!(decode(&bytes).unwrap(), entries);
    }

    #[test]
    fn reads_a_file_written_by_java() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/java-standalone-offsets.ser");
        let entries = read_offsets_file(&path).unwrap();
        let as_text: Vec<(&str, Option<&str>)> = entries
            .iter()
            .map(|(k, v)| {
                (
                    std::str::from_utf8(k).unwrap(),
                    v.as_deref().map(|v| std::str::from_utf8(v).unwrap()),
                )
            })
            .collect();
        assert_eq!(
            as_text,
            [
                (
                    r#"["local-file-source",{"filename":"/tmp/test.txt"}]"#,
                    Some(r#"{"position":1234}"#)
                ),
                (
                    r#"["mm",{"topic":"t","cluster":"A","partition":0}]"#,
                    Some(r#"{"offset":42}"#)
                ),
                (r#"["inventory",{"server":"dbserver1"}]"#, None),
            ]
        );
        // Java's key order is irrelevant once keys are decoded.
        let (connector, partition) = crate::offset_key::decode_key(&entries[1].0).unwrap();
        assert_eq!(connector, "mm");
        assert_eq!(
            crate::offset_key::encode_key(&connector, &partition),
            br#"["mm",{"cluster":"A","partition":0,"topic":"t"}]"#
        );
    }

    #[test]
    fn follows_references_to_earlier_arrays_and_drops_null_keys() {
        let mut bytes = golden().1;
        bytes.truncate(71); // up to and including the threshold field
        bytes.extend(hex("77 08 00 00 00 40 00 00 00 03")); // capacity 64 (> needed), 3 entries
                                                            // Entry 1: a key array (class desc 0x7e0002, array 0x7e0003), value = same array.
        bytes.extend(hex("75 72 00 02"));
        bytes.extend(b"[B");
        bytes.extend(hex(
            "ac f3 17 f8 06 08 54 e0 02 00 00 78 70 00 00 00 02 61 62",
        ));
        bytes.extend(hex("71 00 7e 00 03"));
        // Entry 2: null key (dropped), value array 0x7e0004.
        bytes.extend(hex("70 75 71 00 7e 00 02 00 00 00 01 7a"));
        // Entry 3: key is the earlier value array 0x7e0004, value empty array 0x7e0005.
        bytes.extend(hex("71 00 7e 00 04 75 71 00 7e 00 02 00 00 00 00"));
        bytes.extend(hex("78"));
        assert_eq!(
            decode(&bytes).unwrap(),
            vec![
                (b"ab".to_vec(), Some(b"ab".to_vec())),
                (b"z".to_vec(), Some(Vec::new())),
            ]
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = golden().1;
        for len in 1..bytes.len() {
            let err = decode(&bytes[..len]).unwrap_err();
            assert!(err.problem.contains("stream ends inside"), "{len}: {err}");
        }
    }

    #[test]
    fn rejects_what_java_would_not_have_written() {
        let (_, good) = golden();
        let patched = |at: usize, with: &[u8]| {
            let mut bytes = good.clone();
            bytes[at..at + with.len()].copy_from_slice(with);
            bytes
        };
        let with_trailing = {
            let mut bytes = good.clone();
            bytes.push(0);
            bytes
        };
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("json", br#"{"a":1}"#.to_vec(), "at byte 0: no Java serialization stream header (ac ed 00 05)"),
            ("wrong version", patched(3, &[4]), "at byte 0: no Java serialization stream header (ac ed 00 05)"),
            ("string at top", patched(4, &[TC_STRING]), "at byte 4: expected an object (TC_OBJECT) (0x73), found 0x74"),
            ("other class", patched(19, b"T"), "at byte 5: expected class java.util.HashMap"),
            ("other suid", patched(27, &[0xd2]), "at byte 5: expected class java.util.HashMap"),
            ("zero load factor", patched(63, &[0, 0]), "at byte 71: illegal HashMap load factor 0"),
            ("negative size", patched(77, &[0xff]), "at byte 81: negative HashMap size -16777214"),
            ("no block data", patched(71, &[TC_ENDBLOCKDATA]), "at byte 71: expected the HashMap's capacity and size as block data, found type code 0x78"),
            ("negative array length", patched(100, &[0x80]), "at byte 81: a key of the HashMap: negative array length -2147483633"),
            ("unknown handle", patched(124, &[0x09]), "at byte 121: reference to unknown handle 0x007e0009"),
            ("reference to the map", patched(124, &[0x01]), "at byte 120: expected a class descriptor, the reference is to the HashMap itself"),
            ("value refers to a class", patched(119, &[TC_REFERENCE, 0, 0x7e, 0, 0]), "at byte 119: a value of the HashMap: expected a byte[], the reference is to the descriptor of class java.util.HashMap (serialVersionUID 362498820763181265, flags 0x03, 2 fields)"),
            ("trailing bytes", with_trailing, "at byte 163: 1 unexpected bytes after the HashMap"),
        ];
        for (name, bytes, message) in cases {
            let err = decode(&bytes).unwrap_err().to_string();
            assert!(err.starts_with(message), "{name}: {err}");
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ferry-offsets-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn missing_or_empty_file_holds_no_offsets() {
        let dir = temp_dir("empty");
        let path = dir.join("connect.offsets");
        assert_eq!(read_offsets_file(&path).unwrap(), Vec::<OffsetEntry>::new());
        fs::write(&path, b"").unwrap();
        assert_eq!(read_offsets_file(&path).unwrap(), Vec::<OffsetEntry>::new());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = temp_dir("write");
        let path = dir.join("connect.offsets");
        fs::write(&path, b"old contents").unwrap();
        let (entries, bytes) = golden();
        write_offsets_file(&path, &entries).unwrap();
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert_eq!(read_offsets_file(&path).unwrap(), entries);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["connect.offsets"], "no temporary file left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = temp_dir("errors");
        let path = dir.join("connect.offsets");
        fs::write(&path, &golden().1[..50]).unwrap();
        let err = read_offsets_file(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "offsets file {} is not a Java-serialized HashMap<byte[], byte[]> as Kafka \
                 Connect writes it: at byte 50: stream ends inside a field name (needs 2 bytes, 0 left)",
                path.display()
            )
        );
        let missing_dir = dir.join("no-such-dir").join("connect.offsets");
        let err = write_offsets_file(&missing_dir, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "cannot write offsets file {}: ",
                missing_dir.display()
            )),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
