//! Checks that the prose docs point at code that exists: README.md,
//! DESIGN.md, every other top-level `*.md` but PERFORMANCE.md (a lab
//! notebook, whose paths may name history), and `mini/README.md` if there is
//! one. The docs are a reading path; a link to a file that moved, or to a
//! function that was renamed, sends a learner nowhere, and no compiler
//! notices.
//!
//! The rules, for every Markdown link `[text](target)` outside fenced code
//! blocks whose target is a relative path (not `http…`, not `#anchor`):
//!
//! 1. the path, before any `#fragment` and relative to the document's
//!    directory, exists in the repository (a file or a directory);
//! 2. if the text is one code span naming a Rust item (`` `Core::turn` ``,
//!    `` `schedule` ``, `` `waker_ref()` ``, `` `RunQueue<T>::enqueue` ``,
//!    `` `join!` ``: a trailing `()` and generic arguments are dropped) and
//!    the target is a `.rs` file, that file defines it. `Type::member`: the
//!    file has a `fn member` (or `const member`) in any `impl`, and `Type`
//!    appears as a type name — `struct`, `enum`, `trait`, `type`, `union`,
//!    or the self type or trait of an `impl`. A bare name: the file has a
//!    `fn`, `struct`, `enum`, `trait`, `type`, `union`, `const`, `static`,
//!    `mod` or `macro_rules!` of that name. A module path
//!    (`` `kettle::hyper` ``): the file is that module, or defines its last
//!    segment. Comments and string literals do not count as definitions.
//!    Any other text (prose, `` `cargo test` ``, `` `core.rs` ``) gets rule
//!    1 only.
//!
//! And for every code span outside fenced code blocks:
//!
//! 3. a span that looks like a repository path — only path characters,
//!    a `/`, and a `.rs`, `.md` or `.toml` ending, like `` `src/task/cell.rs` ``
//!    or `` `runtime/core.rs` `` — exists, tried relative to `src/`, then to
//!    the repository root, then to `mini/src/` (for `mini/README.md`, its own
//!    `src/` and directory first);
//! 4. an item span followed by a parenthesised source path,
//!    `` `TimerQueue::sift_down` (`time/queue.rs`) ``, is checked like a link
//!    (rule 2), when it is unambiguous: the item is not the last of a list
//!    (`` `Watch::is_timing`, `Core::run_task_timed` (`core/watch.rs`) `` is
//!    skipped) and the path resolves to a `.rs` file.
//!
//! `mini/` (kettle-mini) is written on another branch: while this checkout
//! has no `mini` directory, links and paths into `mini/` are tolerated. Once
//! it exists they are checked like any other.
//!
//! Each test lists every offender at once, with its document and line.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

// ---------------------------------------------------------------------------
// The documents

/// A Markdown document to check.
struct Doc {
    /// Its path from the repository root, `/`-separated (`mini/README.md`).
    name: String,
    text: String,
}

impl Doc {
    /// The document's directory from the repository root ("" for the root).
    fn dir(&self) -> &str {
        self.name.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lab notebook: its paths may name files as they were.
const NOT_CHECKED: &[&str] = &["PERFORMANCE.md"];

fn docs() -> Vec<Doc> {
    let mut names: Vec<String> = fs::read_dir(root())
        .expect("read the repository root")
        .map(|entry| entry.expect("read a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && !NOT_CHECKED.contains(&name.as_str()))
        .filter(|name| root().join(name).is_file())
        .collect();
    names.sort();
    for required in ["README.md", "DESIGN.md"] {
        assert!(names.iter().any(|n| n == required), "{required} is missing from the repository root");
    }
    if root().join("mini/README.md").is_file() {
        names.push("mini/README.md".to_owned());
    }
    names
        .into_iter()
        .map(|name| {
            let text = fs::read_to_string(root().join(&name)).unwrap_or_else(|e| panic!("read {name}: {e}"));
            Doc { name, text }
        })
        .collect()
}

fn mini_is_absent() -> bool {
    !root().join("mini").is_dir()
}

/// Whether a repository path is tolerated unchecked: one into `mini/` while
/// this checkout has no `mini` directory.
fn tolerated(path: &str) -> bool {
    (path == "mini" || path.starts_with("mini/")) && mini_is_absent()
}

// ---------------------------------------------------------------------------
// Markdown: links and code spans

/// A link `[text](target)` (or an image `![text](target)`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    text: String,
    target: String,
}

/// A code span: its text, and where it starts and ends (byte offsets of the
/// opening and just past the closing backticks).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Span {
    line: usize,
    start: usize,
    end: usize,
    code: String,
}

/// The text with every fenced code block and HTML comment blanked out
/// (newlines kept, so offsets and line numbers stay those of the original).
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<(char, usize)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let opens = |c: char| {
            let run = trimmed.chars().take_while(|&x| x == c).count();
            (run >= 3).then_some((c, run))
        };
        let blank = match fence {
            Some((c, n)) => {
                let run = trimmed.chars().take_while(|&x| x == c).count();
                if run >= n && trimmed[run..].trim().is_empty() {
                    fence = None;
                }
                true
            }
            None => match opens('`').or_else(|| opens('~')) {
                Some(open) => {
                    fence = Some(open);
                    true
                }
                None => false,
            },
        };
        if blank {
            out.push_str(&blanked(line));
        } else {
            out.push_str(line);
        }
    }
    // HTML comments, which Markdown does not render.
    while let Some(start) = out.find("<!--") {
        let end = out[start..].find("-->").map_or(out.len(), |e| start + e + 3);
        let blank = blanked(&out[start..end]);
        out.replace_range(start..end, &blank);
    }
    out
}

/// `text` as spaces, byte for byte, but for its newlines.
fn blanked(text: &str) -> String {
    text.chars().map(|c| if c == '\n' { "\n".to_owned() } else { " ".repeat(c.len_utf8()) }).collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// If a code span opens at `i` (a run of backticks), where its content
/// starts and ends and where the span ends; spans do not cross a blank line.
fn code_span_at(text: &str, i: usize) -> Option<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let n = bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let paragraph_end = text[i..].find("\n\n").map_or(text.len(), |e| i + e);
    let mut j = i + n;
    while j < paragraph_end {
        if bytes[j] == b'`' {
            let run = bytes[j..].iter().take_while(|&&b| b == b'`').count();
            if run == n {
                return Some((i + n, j, j + n));
            }
            j += run;
        } else {
            j += 1;
        }
    }
    None
}

/// The length of the backtick run at `i`.
fn backtick_run(text: &str, i: usize) -> usize {
    text.as_bytes()[i..].iter().take_while(|&&b| b == b'`').count()
}

/// Every code span of `text`, in order.
fn code_spans(text: &str) -> Vec<Span> {
    let prose = prose(text);
    let bytes = prose.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => match code_span_at(&prose, i) {
                Some((from, to, end)) => {
                    let code = normalize_code(&prose[from..to]);
                    spans.push(Span { line: line_of(&prose, i), start: i, end, code });
                    i = end;
                }
                None => i += backtick_run(&prose, i),
            },
            _ => i += 1,
        }
    }
    spans
}

/// A code span's text as Markdown renders it: line ends are spaces, and one
/// space is stripped from each side if both have one.
fn normalize_code(raw: &str) -> String {
    let code = raw.replace('\n', " ");
    if code.len() >= 2 && code.starts_with(' ') && code.ends_with(' ') && !code.trim().is_empty() {
        code[1..code.len() - 1].to_owned()
    } else {
        code
    }
}

/// Where the bracket that closes the one at `open` is (`[`/`]` or `(`/`)`),
/// skipping code spans and escapes, within one paragraph.
fn closing(text: &str, open: usize, (left, right): (u8, u8)) -> Option<usize> {
    let bytes = text.as_bytes();
    let paragraph_end = text[open..].find("\n\n").map_or(text.len(), |e| open + e);
    let mut depth = 0;
    let mut i = open;
    while i < paragraph_end {
        match bytes[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'`' => {
                match code_span_at(text, i) {
                    Some((_, _, end)) => i = end,
                    None => i += backtick_run(text, i),
                }
                continue;
            }
            b if b == left => depth += 1,
            b if b == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Every inline link of `text`, in order.
fn links(text: &str) -> Vec<Link> {
    let prose = prose(text);
    let bytes = prose.as_bytes();
    let mut links = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => match code_span_at(&prose, i) {
                Some((_, _, end)) => i = end,
                None => i += backtick_run(&prose, i),
            },
            b'[' => {
                if let Some(close) = closing(&prose, i, (b'[', b']'))
                    && bytes.get(close + 1) == Some(&b'(')
                    && let Some(end) = closing(&prose, close + 1, (b'(', b')'))
                {
                    let destination = prose[close + 2..end].trim();
                    // A title ("…") may follow the destination; <…> may wrap it.
                    let target = destination.split_whitespace().next().unwrap_or("");
                    let target = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(target);
                    let text = prose[i + 1..close].split_whitespace().collect::<Vec<_>>().join(" ");
                    links.push(Link { line: line_of(&prose, i), text, target: target.to_owned() });
                }
                // Go on inside the text: an image may sit in a link's text.
                i += 1;
            }
            _ => i += 1,
        }
    }
    links
}

/// Whether a link leaves the repository or stays in its document.
fn is_external_or_anchor(target: &str) -> bool {
    target.is_empty()
        || target.starts_with('#')
        || target.starts_with("http")
        || target.starts_with("mailto:")
        || target.contains("://")
}

/// The path part of a link target: before any `#fragment` or `?query`.
fn path_part(target: &str) -> &str {
    target.split(['#', '?']).next().unwrap_or(target)
}

/// `dir/relative`, with `.` and `..` resolved, from the repository root;
/// `None` if it climbs out of the repository or is absolute.
fn join(dir: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in Path::new(dir).join(relative).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// The text of a link if it is exactly one code span.
fn sole_code(text: &str) -> Option<String> {
    let text = text.trim();
    match code_spans(text).as_slice() {
        [span] if span.start == 0 && span.end == text.len() => Some(span.code.trim().to_owned()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Rust items named in the docs

/// What a code span names, if it names a Rust item.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// `schedule`, `RunQueue`, `waker_ref()`.
    Bare(String),
    /// `join!`.
    Macro(String),
    /// `Core::turn`: a member of a type (the type is the segment before it).
    Member { ty: String, member: String },
    /// `kettle::hyper`, `task::Running`: a path through modules.
    Module(Vec<String>),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Bare(name) => write!(f, "{name}"),
            Item::Macro(name) => write!(f, "{name}!"),
            Item::Member { ty, member } => write!(f, "{ty}::{member}"),
            Item::Module(path) => write!(f, "{}", path.join("::")),
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
}

/// `code` without its generic arguments (`RunQueue<T>::enqueue`,
/// `Vec::<u8>::new`); `None` if its angle brackets do not balance.
fn without_generics(code: &str) -> Option<String> {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in code.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.checked_sub(1)?,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    (depth == 0).then(|| out.replace("::::", "::").trim_end_matches("::").to_owned())
}

/// The item a code span names, if it is an identifier path.
fn item(code: &str) -> Option<Item> {
    let code = code.trim();
    let code = code.strip_suffix("()").unwrap_or(code);
    let (code, is_macro) = match code.strip_suffix('!') {
        Some(name) => (name, true),
        None => (code, false),
    };
    let code = without_generics(code)?;
    let segments: Vec<String> = code.split("::").map(str::to_owned).collect();
    if !segments.iter().all(|s| is_identifier(s)) {
        return None;
    }
    Some(match segments.as_slice() {
        [name] if is_macro => Item::Macro(name.clone()),
        _ if is_macro => return None,
        [name] => Item::Bare(name.clone()),
        [.., ty, member] if ty.starts_with(|c: char| c.is_ascii_uppercase()) => {
            Item::Member { ty: ty.clone(), member: member.clone() }
        }
        _ => Item::Module(segments),
    })
}

/// A token of Rust source: comments, literals and lifetimes are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Punct(char),
}

/// Rust source as identifiers and punctuation, enough to find definitions.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut i = 0;
    // Skips a quoted literal whose opening quote is at `i`; returns the index
    // past its closing quote.
    let skip_quoted = |mut i: usize, quote: char| {
        i += 1;
        while i < chars.len() && chars[i] != quote {
            i += if chars[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_quoted(i, '"');
        } else if c == '\'' {
            if at(i + 1) == '\\' || at(i + 2) == '\'' {
                i = skip_quoted(i, '\''); // a character literal
            } else {
                i += 1; // a lifetime: its name follows, and is skipped below
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let hashes = chars[i..].iter().take_while(|&&h| h == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                // A raw string: ends at a quote followed by as many hashes.
                i += hashes + 1;
                while i < chars.len()
                    && !(chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#'))
                {
                    i += 1;
                }
                i += 1 + hashes;
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                i = skip_quoted(i, '"');
            } else if word == "b" && at(i) == '\'' {
                i = skip_quoted(i, '\'');
            } else if word == "r" && hashes == 1 && (at(i + 1).is_alphabetic() || at(i + 1) == '_') {
                // A raw identifier, r#name.
                let start = i + 1;
                i = start;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            } else {
                out.push(Token::Ident(word));
            }
        } else if c.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// What a Rust file defines, by kind.
#[derive(Default, Debug)]
struct Definitions {
    /// Names after `fn`.
    fns: BTreeSet<String>,
    /// Names after `const`.
    consts: BTreeSet<String>,
    /// Names defined as types: `struct`, `enum`, `trait`, `type`, `union`,
    /// and the self types and traits of `impl`s.
    types: BTreeSet<String>,
    /// Every name any item keyword (or `macro_rules!`) defines.
    items: BTreeSet<String>,
    /// Names after `macro_rules!`.
    macros: BTreeSet<String>,
}

fn ident(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i) {
        Some(Token::Ident(name)) => Some(name),
        _ => None,
    }
}

fn is_punct(tokens: &[Token], i: usize, c: char) -> bool {
    tokens.get(i) == Some(&Token::Punct(c))
}

/// Skips balanced generic brackets opening at `i`; `->` inside them (a
/// closure bound's return type) is not a closing bracket.
fn skip_generics(tokens: &[Token], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < tokens.len() {
        if is_punct(tokens, i, '<') {
            depth += 1;
        } else if is_punct(tokens, i, '>') && !is_punct(tokens, i.wrapping_sub(1), '-') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// Reads a type path at `i` (`&'a mut dyn a::B<T>`): the last segment's
/// name, and the index after the path.
fn type_path(tokens: &[Token], mut i: usize) -> (Option<String>, usize) {
    while is_punct(tokens, i, '&')
        || is_punct(tokens, i, '!')
        || matches!(ident(tokens, i), Some("mut" | "dyn"))
    {
        i += 1;
    }
    let mut name = None;
    while let Some(segment) = ident(tokens, i) {
        name = Some(segment.to_owned());
        i += 1;
        if is_punct(tokens, i, '<') {
            i = skip_generics(tokens, i);
        }
        if is_punct(tokens, i, ':') && is_punct(tokens, i + 1, ':') {
            i += 2;
            if is_punct(tokens, i, '<') {
                i = skip_generics(tokens, i);
                i += usize::from(is_punct(tokens, i, ':') && is_punct(tokens, i + 1, ':')) * 2;
            }
        } else {
            break;
        }
    }
    (name, i)
}

fn definitions(source: &str) -> Definitions {
    let tokens = tokens(source);
    let mut defs = Definitions::default();
    for i in 0..tokens.len() {
        let Some(keyword) = ident(&tokens, i) else { continue };
        match keyword {
            "fn" | "struct" | "enum" | "trait" | "type" | "union" | "const" | "static" | "mod" => {
                let skip_mut = usize::from(keyword == "static" && ident(&tokens, i + 1) == Some("mut"));
                let Some(name) = ident(&tokens, i + 1 + skip_mut) else { continue };
                let name = name.to_owned();
                match keyword {
                    "fn" => _ = defs.fns.insert(name.clone()),
                    "const" => _ = defs.consts.insert(name.clone()),
                    "struct" | "enum" | "trait" | "type" | "union" => _ = defs.types.insert(name.clone()),
                    _ => {}
                }
                defs.items.insert(name);
            }
            "macro_rules" if is_punct(&tokens, i + 1, '!') => {
                if let Some(name) = ident(&tokens, i + 2) {
                    defs.macros.insert(name.to_owned());
                    defs.items.insert(name.to_owned());
                }
            }
            "impl" => {
                let mut j = i + 1;
                if is_punct(&tokens, j, '<') {
                    j = skip_generics(&tokens, j);
                }
                let (first, after) = type_path(&tokens, j);
                defs.types.extend(first);
                if ident(&tokens, after) == Some("for") {
                    let (self_type, _) = type_path(&tokens, after + 1);
                    defs.types.extend(self_type);
                }
            }
            _ => {}
        }
    }
    defs
}

/// Whether the file at `path` (from the root) with these definitions
/// defines `item`.
fn defines(path: &str, defs: &Definitions, item: &Item) -> bool {
    match item {
        Item::Bare(name) => defs.items.contains(name),
        Item::Macro(name) => defs.macros.contains(name),
        Item::Member { ty, member } => {
            defs.types.contains(ty) && (defs.fns.contains(member) || defs.consts.contains(member))
        }
        Item::Module(segments) => {
            let last = segments.last().expect("a path has segments");
            let file = Path::new(path);
            let stem = file.file_stem().map(|s| s.to_string_lossy());
            let is_the_module = stem.as_deref() == Some(last.as_str())
                || (stem.as_deref() == Some("mod")
                    && file.parent().and_then(Path::file_name).map(|d| d.to_string_lossy()).as_deref()
                        == Some(last.as_str()));
            is_the_module || defs.items.contains(last)
        }
    }
}

fn definitions_of(path: &str) -> Definitions {
    let source = fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"));
    definitions(&source)
}

// ---------------------------------------------------------------------------
// Paths named in code spans

/// Whether a code span looks like a path in the repository.
fn looks_like_repo_path(code: &str) -> bool {
    code.contains('/')
        && [".rs", ".md", ".toml"].iter().any(|ext| code.ends_with(ext))
        && !code.starts_with('/')
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
}

/// Where a path in a code span of `doc` may point, in the order tried.
fn candidates(doc: &Doc, path: &str) -> Vec<String> {
    let dir = doc.dir();
    let mut tried = Vec::new();
    for base in [join(dir, "src"), Some(dir.to_owned()), Some("src".to_owned()), Some(String::new())]
        .into_iter()
        .flatten()
        .chain(["mini/src".to_owned()])
    {
        if let Some(candidate) = join(&base, path)
            && !tried.contains(&candidate)
        {
            tried.push(candidate);
        }
    }
    tried
}

/// What a path in a code span resolves to: `Ok(Some(path))` if it exists,
/// `Ok(None)` if it is tolerated (into an absent `mini/`), `Err` with the
/// places tried otherwise.
fn resolve_span_path(doc: &Doc, path: &str) -> Result<Option<String>, Vec<String>> {
    let tried = candidates(doc, path);
    if let Some(found) = tried.iter().find(|c| root().join(c).exists()) {
        return Ok(Some(found.clone()));
    }
    if tolerated(path) {
        return Ok(None);
    }
    Err(tried)
}

// ---------------------------------------------------------------------------
// Offenders

/// Something in a document that names what is not there.
struct Offender {
    doc: String,
    line: usize,
    /// The Markdown at fault: `[text](target)`, `` `path` ``, or
    /// `` `Item` (`path.rs`) ``.
    what: String,
    why: String,
}

impl Offender {
    fn link(doc: &str, link: &Link, why: String) -> Offender {
        Offender {
            doc: doc.to_owned(),
            line: link.line,
            what: format!("[{}]({})", link.text, link.target),
            why,
        }
    }
}

impl fmt::Display for Offender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} — {}", self.doc, self.line, self.what, self.why)
    }
}

fn report(what: &str, offenders: &[Offender]) -> String {
    let list: Vec<String> = offenders.iter().map(|o| format!("  {o}")).collect();
    format!("{} {what}:\n{}", offenders.len(), list.join("\n"))
}

/// The links of every document to a path in the repository, with the path
/// resolved from the root (`None` if it leaves the repository).
fn relative_links() -> Vec<(String, Link, Option<String>)> {
    let mut out = Vec::new();
    for doc in docs() {
        for link in links(&doc.text) {
            if is_external_or_anchor(&link.target) {
                continue;
            }
            let resolved = join(doc.dir(), path_part(&link.target));
            out.push((doc.name.clone(), link, resolved));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The tests

#[test]
fn every_link_in_the_readme_and_design_names_a_file_that_exists() {
    let links = relative_links();
    assert!(links.len() >= 30, "only {} links to repository paths found: is the parser broken?", links.len());
    let offenders: Vec<Offender> = links
        .into_iter()
        .filter_map(|(doc, link, resolved)| {
            let why = match resolved {
                None => "leaves the repository".to_owned(),
                Some(path) if tolerated(&path) || root().join(&path).exists() => return None,
                Some(path) => format!("no file or directory {path}{}", path_hint(&path)),
            };
            Some(Offender::link(&doc, &link, why))
        })
        .collect();
    assert!(offenders.is_empty(), "{}", report("links to paths that do not exist", &offenders));
}

#[test]
fn every_function_a_link_names_is_defined_in_the_file_it_links_to() {
    let mut checked = 0;
    let mut offenders = Vec::new();
    for (doc, link, resolved) in relative_links() {
        let Some(path) = resolved else { continue };
        let Some(code) = sole_code(&link.text) else { continue };
        let Some(item) = item(&code) else { continue };
        // A missing file is the first test's to report.
        if !path.ends_with(".rs") || !root().join(&path).is_file() {
            continue;
        }
        checked += 1;
        if !defines(&path, &definitions_of(&path), &item) {
            let why = format!("{path} does not define `{item}`{}", hint(&item));
            offenders.push(Offender::link(&doc, &link, why));
        }
    }
    assert!(checked >= 20, "only {checked} links name an item in a source file: is the parser broken?");
    assert!(offenders.is_empty(), "{}", report("links to items their file does not define", &offenders));
}

#[test]
fn every_source_path_the_docs_mention_exists() {
    let mut checked = 0;
    let mut offenders = Vec::new();
    for doc in docs() {
        for span in code_spans(&doc.text) {
            if !looks_like_repo_path(&span.code) {
                continue;
            }
            checked += 1;
            if let Err(tried) = resolve_span_path(&doc, &span.code) {
                offenders.push(Offender {
                    doc: doc.name.clone(),
                    line: span.line,
                    what: format!("`{}`", span.code),
                    why: format!("none of {} exists{}", tried.join(", "), path_hint(&span.code)),
                });
            }
        }
    }
    assert!(checked >= 20, "only {checked} code spans name a path: is the parser broken?");
    assert!(offenders.is_empty(), "{}", report("paths in code spans that do not exist", &offenders));
}

/// The `` `Item` (`path.rs`) `` pairs of a document: the item's span and
/// the path, when the item is not the last of a list.
fn items_beside_paths(text: &str) -> Vec<(Span, String)> {
    let prose = prose(text);
    let spans = code_spans(text);
    let mut pairs = Vec::new();
    for pair in spans.windows(2) {
        let [item_span, path_span] = pair else { unreachable!() };
        let between = &prose[item_span.end..path_span.start];
        let after = &prose[path_span.end..];
        if between != " (" || !after.starts_with(')') || !path_span.code.ends_with(".rs") {
            continue;
        }
        if !looks_like_repo_path(&path_span.code) || item(&item_span.code).is_none() {
            continue;
        }
        let before = prose[..item_span.start].trim_end();
        let in_a_list = before.ends_with(',')
            || [" and", " or", "/"]
                .iter()
                .any(|w| before.strip_suffix(w).is_some_and(|rest| rest.trim_end().ends_with('`')));
        if !in_a_list {
            pairs.push((item_span.clone(), path_span.code.clone()));
        }
    }
    pairs
}

#[test]
fn every_item_the_docs_place_in_a_file_in_parentheses_is_defined_there() {
    let mut checked = 0;
    let mut offenders = Vec::new();
    for doc in docs() {
        for (span, path) in items_beside_paths(&doc.text) {
            // A path that does not exist is the test above's to report.
            let Ok(Some(file)) = resolve_span_path(&doc, &path) else { continue };
            if !root().join(&file).is_file() {
                continue;
            }
            let item = item(&span.code).expect("filtered to items");
            checked += 1;
            if !defines(&file, &definitions_of(&file), &item) {
                offenders.push(Offender {
                    doc: doc.name.clone(),
                    line: span.line,
                    what: format!("`{}` (`{path}`)", span.code),
                    why: format!("{file} does not define `{item}`{}", hint(&item)),
                });
            }
        }
    }
    assert!(checked >= 5, "only {checked} `Item` (`path.rs`) pairs found: is the parser broken?");
    assert!(offenders.is_empty(), "{}", report("items their parenthesised file does not define", &offenders));
}

/// Every file of the repository (but `target/` and hidden directories),
/// from the root.
fn repository_files() -> Vec<String> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = vec![root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else {
                files.push(path.strip_prefix(root()).expect("under the root").to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// The Rust files that define `item` (an item of that name, for a module
/// path), to help whoever fixes the docs.
fn hint(item: &Item) -> String {
    let found: Vec<String> = repository_files()
        .into_iter()
        .filter(|f| (f.starts_with("src/") || f.starts_with("mini/src/")) && f.ends_with(".rs"))
        .filter(|f| defines(f, &definitions_of(f), item))
        .collect();
    match (found.is_empty(), item) {
        (true, _) => " (nor does any file under src/)".to_owned(),
        (false, Item::Module(path)) => {
            format!(
                " (an item named `{}` is in {})",
                path.last().expect("a path has segments"),
                found.join(", ")
            )
        }
        (false, _) => format!(" (found in {})", found.join(", ")),
    }
}

/// The files whose path ends like `path` (its last two components), to help
/// whoever fixes the docs.
fn path_hint(path: &str) -> String {
    let parts: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(2).collect();
    let suffix: Vec<&str> = parts.into_iter().rev().collect();
    let suffix = format!("/{}", suffix.join("/"));
    let found: Vec<String> =
        repository_files().into_iter().filter(|f| format!("/{f}").ends_with(&suffix)).collect();
    if found.is_empty() { String::new() } else { format!(" (did you mean {}?)", found.join(" or ")) }
}

// ---------------------------------------------------------------------------
// The checker checked

const SAMPLE: &str = r#"# A document

See [`Core::turn`](src/runtime/core.rs), [the docs](https://docs.rs/x) and
[a section](#anchor). A link over two lines: [the life of
a task](DESIGN.md#the-life-of-a-task "a title"). Brackets in code do not
link: `a[0](1)`, nor escaped ones: \[x](y).

```rust
let not_a_link = [x](y);
```

![a picture](docs/tour-timeline.svg) and `TimerQueue::sift_down` (`time/queue.rs`),
but `Watch::is_timing`, `Core::run_task_timed` (`core/watch.rs`) is a list.
<!-- [hidden](nowhere.md) -->
"#;

#[test]
fn the_parser_finds_links_and_code_spans_outside_code_blocks() {
    let link =
        |line, text: &str, target: &str| Link { line, text: text.to_owned(), target: target.to_owned() };
    assert_eq!(
        links(SAMPLE),
        [
            link(3, "`Core::turn`", "src/runtime/core.rs"),
            link(3, "the docs", "https://docs.rs/x"),
            link(4, "a section", "#anchor"),
            link(4, "the life of a task", "DESIGN.md#the-life-of-a-task"),
            link(12, "a picture", "docs/tour-timeline.svg"),
        ]
    );
    let codes: Vec<(usize, String)> = code_spans(SAMPLE).into_iter().map(|s| (s.line, s.code)).collect();
    let code = |line, code: &str| (line, code.to_owned());
    assert_eq!(
        codes,
        [
            code(3, "Core::turn"),
            code(6, "a[0](1)"),
            code(12, "TimerQueue::sift_down"),
            code(12, "time/queue.rs"),
            code(13, "Watch::is_timing"),
            code(13, "Core::run_task_timed"),
            code(13, "core/watch.rs"),
        ]
    );
    let pairs: Vec<(String, String)> =
        items_beside_paths(SAMPLE).into_iter().map(|(span, path)| (span.code, path)).collect();
    assert_eq!(pairs, [("TimerQueue::sift_down".to_owned(), "time/queue.rs".to_owned())]);

    assert_eq!(sole_code("`Core::turn`").as_deref(), Some("Core::turn"));
    assert_eq!(sole_code("`TaskRef`'s `Drop`"), None);
    assert_eq!(sole_code("the docs"), None);
    assert!(is_external_or_anchor("https://docs.rs/x") && is_external_or_anchor("#anchor"));
    assert_eq!(path_part("DESIGN.md#the-life-of-a-task"), "DESIGN.md");
    assert_eq!(join("mini", "../src/lib.rs").as_deref(), Some("src/lib.rs"));
    assert_eq!(join("", "../outside"), None);
    assert!(looks_like_repo_path("runtime/core.rs") && looks_like_repo_path("mini/README.md"));
    assert!(!looks_like_repo_path("core.rs") && !looks_like_repo_path("benches/*.rs"));
}

#[test]
fn the_item_reader_knows_names_from_prose() {
    let member = |ty: &str, member: &str| Some(Item::Member { ty: ty.to_owned(), member: member.to_owned() });
    assert_eq!(item("Core::turn"), member("Core", "turn"));
    assert_eq!(item("TaskRef::new_local"), member("TaskRef", "new_local"));
    assert_eq!(item("RunQueue<T>::enqueue()"), member("RunQueue", "enqueue"));
    assert_eq!(item("Vec::<u8>::new"), member("Vec", "new"));
    assert_eq!(item("waker_ref()"), Some(Item::Bare("waker_ref".to_owned())));
    assert_eq!(item("RunQueue"), Some(Item::Bare("RunQueue".to_owned())));
    assert_eq!(item("join!"), Some(Item::Macro("join".to_owned())));
    assert_eq!(item("kettle::hyper"), Some(Item::Module(vec!["kettle".to_owned(), "hyper".to_owned()])));
    for not_an_item in ["cargo test", "core.rs", "kettle-mini", "src/task/cell.rs", "a[0](1)", "Foo<T"] {
        assert_eq!(item(not_an_item), None, "{not_an_item}");
    }
}

#[test]
fn the_definition_finder_reads_items_and_ignores_comments_and_strings() {
    let source = r##"
        // fn commented_out() {}
        /// struct InADocComment;
        /* fn in_a_block() { /* nested */ } */
        pub(crate) struct RunQueue<T> { items: Vec<T> }
        impl<'a, T: Fn() -> u8> RunQueue<T> where T: 'a {
            pub(crate) fn enqueue(&self) { let _ = '"'; let _ = 'a'; }
        }
        unsafe impl Send for TaskRef {}
        impl<T> Drop for kettle::Outer<T> { fn drop(&mut self) {} }
        const NAME: &str = "fn in_a_string() {}";
        static RAW: &str = r#"fn in_a_raw_string() "quoted" {}"#;
        macro_rules! join { () => {} }
        pub(crate) fn waker_ref<'a>() {}
        mod inner {}
    "##;
    let defs = definitions(source);
    let has = |code: &str| defines("src/runtime/run_queue.rs", &defs, &item(code).expect(code));
    for present in
        ["RunQueue::enqueue", "waker_ref()", "RunQueue", "join!", "NAME", "RAW", "inner", "TaskRef::drop"]
    {
        assert!(has(present), "{present} should be found in {defs:?}");
    }
    assert!(has("Outer::drop") && has("Send::enqueue"), "any impl's self type or trait is a type name");
    assert!(has("kettle::run_queue"), "a module path names its own file");
    for absent in
        ["commented_out", "InADocComment", "in_a_block", "in_a_string", "in_a_raw_string", "Core::enqueue"]
    {
        assert!(!has(absent), "{absent} should not be found");
    }
    assert!(!has("RunQueue::missing") && !has("task::Running") && !has("missing!"));
}
