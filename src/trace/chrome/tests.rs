use std::panic::Location;
use std::time::Duration;

use super::super::sample;
use super::super::{Phase, Recorder, Trace, TraceEvent};
use crate::task::id::Id;

/// A JSON value, as far as the tests need one.
#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    fn array(&self) -> &[Value] {
        match self {
            Value::Array(items) => items,
            other => panic!("not an array: {other:?}"),
        }
    }
}

/// A strict JSON parser (RFC 8259): the whole input must be one value.
fn parse(text: &str) -> Value {
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    let value = p.value();
    p.space();
    assert_eq!(p.at, p.s.len(), "trailing text after the JSON value");
    value
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.at < self.s.len() && b" \t\n\r".contains(&self.s[self.at]) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) {
        self.space();
        assert_eq!(self.s.get(self.at), Some(&b), "expected {:?} at byte {}", b as char, self.at);
        self.at += 1;
    }

    fn peek(&mut self) -> u8 {
        self.space();
        *self.s.get(self.at).expect("unexpected end of JSON")
    }

    fn value(&mut self) -> Value {
        match self.peek() {
            b'{' => {
                self.eat(b'{');
                let mut fields = Vec::new();
                if self.peek() == b'}' {
                    self.eat(b'}');
                    return Value::Object(fields);
                }
                loop {
                    let key = self.string();
                    self.eat(b':');
                    fields.push((key, self.value()));
                    if self.peek() == b',' {
                        self.eat(b',');
                    } else {
                        self.eat(b'}');
                        return Value::Object(fields);
                    }
                }
            }
            b'[' => {
                self.eat(b'[');
                let mut items = Vec::new();
                if self.peek() == b']' {
                    self.eat(b']');
                    return Value::Array(items);
                }
                loop {
                    items.push(self.value());
                    if self.peek() == b',' {
                        self.eat(b',');
                    } else {
                        self.eat(b']');
                        return Value::Array(items);
                    }
                }
            }
            b'"' => Value::String(self.string()),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Value {
        assert!(self.s[self.at..].starts_with(word.as_bytes()), "bad literal at byte {}", self.at);
        self.at += word.len();
        value
    }

    fn number(&mut self) -> Value {
        let start = self.at;
        while self.at < self.s.len() && b"-+.eE0123456789".contains(&self.s[self.at]) {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.at]).unwrap();
        let ok = text.strip_prefix('-').unwrap_or(text);
        assert!(
            ok.starts_with(|c: char| c.is_ascii_digit())
                && !(ok.starts_with('0') && ok.len() > 1 && ok.as_bytes()[1].is_ascii_digit()),
            "bad number {text:?} at byte {start}"
        );
        Value::Number(text.parse().unwrap_or_else(|_| panic!("bad number {text:?} at byte {start}")))
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.at).expect("unterminated string");
            self.at += 1;
            match b {
                b'"' => return String::from_utf8(out).expect("strings are UTF-8"),
                b'\\' => {
                    let e = self.s[self.at];
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.at..self.at + 4]).unwrap();
                            self.at += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).unwrap()).expect("no surrogates here")
                        }
                        _ => panic!("bad escape \\{} at byte {}", e as char, self.at),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                0..=0x1f => panic!("raw control character in a string at byte {}", self.at),
                _ => out.push(b),
            }
        }
    }
}

fn json(trace: &Trace) -> (String, Value) {
    let mut out = Vec::new();
    trace.write_chrome_json(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let value = parse(&text);
    (text, value)
}

fn events_named<'v>(value: &'v Value, name: &str) -> Vec<&'v Value> {
    let events = value.get("traceEvents").unwrap().array();
    events.iter().filter(|e| e.get("name").and_then(Value::str) == Some(name)).collect()
}

#[test]
fn the_parser_refuses_what_is_not_json() {
    for bad in ["{", "[1,]", "{\"a\" 1}", "\"a\nb\"", "01", "[1] x", "{\"a\":1,}"] {
        assert!(std::panic::catch_unwind(|| parse(bad)).is_err(), "accepted {bad:?}");
    }
    assert_eq!(
        parse(" [1.5, \"\\u003c\", {}] "),
        Value::Array(vec![Value::Number(1.5), Value::String("<".into()), Value::Object(vec![])])
    );
}

#[test]
fn an_empty_trace_is_a_valid_object_with_the_loop_track() {
    let (_, value) = json(&Recorder::new(1).finish());
    assert_eq!(value.get("displayTimeUnit").and_then(Value::str), Some("ms"));
    assert_eq!(value.get("otherData").unwrap().get("dropped"), Some(&Value::Number(0.0)));
    let names: Vec<_> = events_named(&value, "thread_name")
        .iter()
        .map(|e| e.get("args").unwrap().get("name").unwrap().str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["loop", "callbacks"]);
    assert_eq!(events_named(&value, "process_name").len(), 1);
}

#[test]
fn each_task_gets_one_named_track_with_its_spawn_location() {
    let trace = sample::tour();
    let (text, value) = json(&trace);
    sample::keep("tour.json", text.as_bytes());
    let tracks = events_named(&value, "thread_name");
    assert_eq!(tracks.len(), 2 + trace.tasks().len());
    for id in trace.tasks() {
        let tid = Value::Number((1000 + id.as_u64()) as f64);
        let named: Vec<_> = tracks.iter().filter(|t| t.get("tid") == Some(&tid)).collect();
        assert_eq!(named.len(), 1, "task {id}");
        let name = named[0].get("args").unwrap().get("name").unwrap().str().unwrap();
        assert!(name.starts_with(&format!("task {id} ")), "{name}");
        assert!(name.contains("sample.rs:"), "{name}");
    }
    let polls: Vec<_> = events_named(&value, "poll")
        .into_iter()
        .filter(|p| p.get("cat").and_then(Value::str) == Some("task"))
        .collect();
    let recorded = trace.events().iter().filter(|e| matches!(e, TraceEvent::Poll { .. })).count();
    assert_eq!(polls.len(), recorded);
    assert!(polls.iter().all(|p| p.get("ph").and_then(Value::str) == Some("X")));
}

#[test]
fn a_task_name_with_quotes_newlines_and_script_tags_is_escaped() {
    let name = "say \"hi\"\\\n\t</script>\u{1}ünïcode";
    let mut recorder = Recorder::new(8);
    let id = Id::from_u64(3);
    recorder.label(id, Some(name), Location::caller());
    recorder.push(TraceEvent::Poll {
        task: id,
        start: Duration::from_micros(5),
        duration: Duration::from_nanos(1500),
    });
    let (text, value) = json(&recorder.finish());
    assert!(!text.contains("</script>"), "an HTML page embedding the JSON would end its script");
    assert!(text.contains("ünïcode"), "non-ASCII stays UTF-8");
    let track = events_named(&value, "thread_name")
        .into_iter()
        .find(|t| t.get("tid") == Some(&Value::Number(1003.0)));
    let shown = track.unwrap().get("args").unwrap().get("name").unwrap().str().unwrap();
    assert!(shown.starts_with(&format!("task 3 {name} (")), "{shown:?}");
    let poll = &events_named(&value, "poll")[0];
    assert_eq!(poll.get("ts"), Some(&Value::Number(5.0)));
    assert_eq!(poll.get("dur"), Some(&Value::Number(1.5)));
}

#[test]
fn dropped_events_are_counted_in_other_data_and_shown_at_the_start() {
    let mut recorder = Recorder::new(2);
    for turn in 0..5 {
        let start = Duration::from_millis(turn);
        recorder.push(TraceEvent::Phase {
            phase: Phase::Run,
            turn,
            start,
            duration: Duration::from_micros(10),
        });
    }
    let (_, value) = json(&recorder.finish());
    assert_eq!(value.get("otherData").unwrap().get("dropped"), Some(&Value::Number(3.0)));
    let notice = events_named(&value, "3 earlier events dropped (the ring buffer was full)");
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].get("ts"), Some(&Value::Number(0.0)));
    assert_eq!(events_named(&value, "run").len(), 2);
}

#[test]
fn instants_go_on_the_loop_track_and_callbacks_on_theirs() {
    let (_, value) = json(&sample::tour());
    let events = value.get("traceEvents").unwrap().array();
    for event in events {
        let ph = event.get("ph").and_then(Value::str).unwrap();
        let cat = event.get("cat").and_then(Value::str).unwrap_or("");
        let tid = event.get("tid");
        match (ph, cat) {
            ("i", _) => assert_eq!(tid, Some(&Value::Number(1.0)), "{event:?}"),
            ("X", "callback") => assert_eq!(tid, Some(&Value::Number(2.0))),
            ("X", "phase") => assert_eq!(tid, Some(&Value::Number(1.0))),
            _ => {}
        }
    }
    assert!(events.iter().any(|e| e.get("cat").and_then(Value::str) == Some("timer")));
    assert!(events.iter().any(|e| e.get("cat").and_then(Value::str) == Some("callback")));
}
