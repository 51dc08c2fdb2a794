//! authorized_keys lines: sshd-compatible quoting, located errors, and property tests
//! (render -> parse round trip over random options and values; arbitrary bytes and
//! token soups never panic), plus a 100k-line streaming smoke test.

use std::borrow::Cow;

use skset::openssh::authorized_keys::{
    parse_line, parse_line_bytes, parse_lines, render_options, AuthOption, AuthorizedKeyLine, Line,
    LineErrorKind, RenderError,
};

const BLOB: &str = "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIBVs3+N0Pb1Jc1m7W1q+uYVv0p6m9T1t6yHcB8U9dJ3AAAAABHNzaDo=";

fn key(line: &str) -> AuthorizedKeyLine<'_> {
    match parse_line(line) {
        Ok(Line::Key(k)) => k,
        other => panic!("{line:?} -> {other:?}"),
    }
}

#[test]
fn the_robo_line_from_the_model() {
    let line = format!("no-touch-required,from=\"10.0.0.0/8\",command=\"/usr/local/bin/backup-shell\" sk-ssh-ed25519@openssh.com {BLOB} laptop-robo");
    let k = key(&line);
    assert_eq!(
        k.options,
        vec![
            AuthOption::NoTouchRequired,
            AuthOption::From("10.0.0.0/8".into()),
            AuthOption::Command("/usr/local/bin/backup-shell".into()),
        ]
    );
    assert_eq!(k.key_type, "sk-ssh-ed25519@openssh.com");
    assert_eq!(k.key_base64, BLOB);
    assert_eq!(k.comment.as_deref(), Some("laptop-robo"));
    assert_eq!(k.render().unwrap(), line);
}

#[test]
fn no_options_comments_blanks_crlf_and_indentation() {
    assert_eq!(parse_line("").unwrap(), Line::Blank);
    assert_eq!(parse_line("   \t\r\n").unwrap(), Line::Blank);
    assert_eq!(
        parse_line("  # a comment\r\n").unwrap(),
        Line::Comment(" a comment")
    );
    let l1 = format!("\t  sk-ssh-ed25519@openssh.com {BLOB}\r\n");
    let k = key(&l1);
    assert!(k.options.is_empty());
    assert_eq!(k.comment, None);
    let l2 = format!("ssh-ed25519 {BLOB}   two  words \r");
    let k = key(&l2);
    assert_eq!(k.comment.as_deref(), Some("two  words"));
}

#[test]
fn quoted_values_with_spaces_commas_and_escaped_quotes() {
    let line =
        format!(r#"command="echo \"a, b\" c",environment="X=1 2",restrict ssh-ed25519 {BLOB} c"#);
    let k = key(&line);
    assert_eq!(k.options[0], AuthOption::Command(r#"echo "a, b" c"#.into()));
    assert_eq!(k.options[1], AuthOption::Environment("X=1 2".into()));
    assert_eq!(k.options[2], AuthOption::Restrict);
    // Borrowed when no unescaping was needed.
    assert!(matches!(
        &k.options[1],
        AuthOption::Environment(Cow::Borrowed(_))
    ));
    assert_eq!(k.render().unwrap(), line);
}

#[test]
fn names_are_case_insensitive_and_unknown_options_are_kept() {
    let l = format!("NO-PTY,No-X11-Forwarding,future-thing,future-kv=\"v\" ssh-ed25519 {BLOB}");
    let k = key(&l);
    assert_eq!(k.options[0], AuthOption::NoPty);
    assert_eq!(k.options[1], AuthOption::NoX11Forwarding);
    assert_eq!(
        k.options[2],
        AuthOption::Unknown {
            name: "future-thing".into(),
            value: None
        }
    );
    assert_eq!(
        k.options[3],
        AuthOption::Unknown {
            name: "future-kv".into(),
            value: Some("v".into())
        }
    );
    assert_eq!(
        k.render().unwrap(),
        format!("no-pty,no-X11-forwarding,future-thing,future-kv=\"v\" ssh-ed25519 {BLOB}")
    );
}

#[test]
fn malformed_lines_are_located() {
    type Case = (&'static str, usize, fn(&LineErrorKind) -> bool);
    let cases: &[Case] = &[
        (r#"from="10.0.0.0/8 ssh-ed25519 AAAA"#, 6, |k| {
            *k == LineErrorKind::UnterminatedQuote
        }),
        ("from=10.0.0.0/8 ssh-ed25519 AAAA", 6, |k| {
            matches!(k, LineErrorKind::UnquotedValue { .. })
        }),
        ("restrict=\"x\" ssh-ed25519 AAAA", 1, |k| {
            matches!(k, LineErrorKind::FlagWithValue { name: "restrict" })
        }),
        ("command ssh-ed25519 AAAA", 1, |k| {
            matches!(k, LineErrorKind::MissingValue { name: "command" })
        }),
        ("restrict,,no-pty ssh-ed25519 AAAA", 10, |k| {
            *k == LineErrorKind::EmptyOptionName
        }),
        ("restrict", 9, |k| *k == LineErrorKind::MissingKeyType),
        ("ssh-ed25519", 12, |k| {
            matches!(k, LineErrorKind::MissingKeyBlob { .. })
        }),
        ("ssh-ed25519 AAA$", 16, |k| {
            matches!(k, LineErrorKind::BadBase64Char { found: '$' })
        }),
        ("ssh-ed25519 AAAAA", 13, |k| {
            matches!(k, LineErrorKind::BadBase64Length { len: 5 })
        }),
        ("from=\"a\"x ssh-ed25519 AAAA", 9, |k| {
            matches!(k, LineErrorKind::BadSeparator { found: 'x' })
        }),
        ("ssh-ed25519 AAAA\0", 17, |k| *k == LineErrorKind::NulByte),
        ("é,from=\"x ssh-ed25519 AAAA", 8, |k| {
            *k == LineErrorKind::UnterminatedQuote
        }),
    ];
    for (line, column, check) in cases {
        let e = parse_line(line).expect_err(line);
        assert_eq!(e.column, *column, "{line:?}: {e}");
        assert!(check(&e.kind), "{line:?}: {e}");
        assert!(e.to_string().starts_with(&format!("column {column}: ")));
    }
    let e = parse_line_bytes(b"ssh-ed25519 AAAA caf\xc3(").unwrap_err();
    assert_eq!((e.column, e.kind), (21, LineErrorKind::InvalidUtf8));
}

#[test]
fn rendering_refuses_what_sshd_would_misread() {
    let trailing = AuthOption::Command("/bin/echo \\".into());
    assert!(matches!(
        trailing.render(),
        Err(RenderError::TrailingBackslash { .. })
    ));
    let newline = AuthOption::From("10.0.0.0/8\nrestrict".into());
    assert!(matches!(
        newline.render(),
        Err(RenderError::LineBreakInValue { .. })
    ));
    let line = AuthorizedKeyLine {
        options: vec![],
        key_type: "ssh-ed25519".into(),
        key_base64: BLOB.into(),
        comment: Some("a\nb".into()),
    };
    assert_eq!(line.render(), Err(RenderError::LineBreakInComment));
}

#[test]
fn parse_lines_streams_a_file_with_line_numbers() {
    let text = format!("# keys\n\nrestrict ssh-ed25519 {BLOB} a\r\nbroken=\"\nssh-ed25519 {BLOB}");
    let results: Vec<_> = parse_lines(&text).collect();
    assert_eq!(results.len(), 5);
    assert!(matches!(results[0], (1, Ok(Line::Comment(_)))));
    assert!(matches!(results[1], (2, Ok(Line::Blank))));
    assert!(matches!(results[2], (3, Ok(Line::Key(_)))));
    assert!(matches!(results[3], (4, Err(_))));
    assert!(matches!(results[4], (5, Ok(Line::Key(_)))));
}

#[test]
fn a_hundred_thousand_lines() {
    let one = format!("restrict,from=\"10.0.0.0/8\",command=\"/usr/bin/rrsync -ro /srv\" sk-ssh-ed25519@openssh.com {BLOB} robo@host\n");
    let text = one.repeat(100_000);
    let started = std::time::Instant::now();
    let keys = parse_lines(&text)
        .filter(|(_, r)| matches!(r, Ok(Line::Key(_))))
        .count();
    assert_eq!(keys, 100_000);
    // Debug build on a shared 2-core box: generous bound, catches accidental quadratic work.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

// ---- property tests --------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters that stress quoting: quotes, backslashes, separators, blanks, non-ASCII.
const VALUE_CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '\t', ',', '"', '\\', '=', '#', '/', '*', '!', ':', 'é', '€', '😀', '\'',
];

fn random_value(rng: &mut Rng) -> String {
    (0..rng.below(12)).map(|_| *rng.pick(VALUE_CHARS)).collect()
}

fn random_option(rng: &mut Rng) -> AuthOption<'static> {
    let value: Cow<'static, str> = random_value(rng).into();
    match rng.below(20) {
        0 => AuthOption::Restrict,
        1 => AuthOption::CertAuthority,
        2 => AuthOption::NoTouchRequired,
        3 => AuthOption::VerifyRequired,
        4 => AuthOption::NoAgentForwarding,
        5 => AuthOption::NoPortForwarding,
        6 => AuthOption::NoPty,
        7 => AuthOption::NoX11Forwarding,
        8 => AuthOption::NoUserRc,
        9 => AuthOption::Pty,
        10 => AuthOption::Command(value),
        11 => AuthOption::Environment(value),
        12 => AuthOption::From(value),
        13 => AuthOption::PermitOpen(value),
        14 => AuthOption::PermitListen(value),
        15 => AuthOption::Principals(value),
        16 => AuthOption::ExpiryTime(value),
        17 => AuthOption::Tunnel(value),
        18 => AuthOption::Unknown {
            name: "x-custom".into(),
            value: Some(value),
        },
        _ => AuthOption::Unknown {
            name: "x-flag".into(),
            value: None,
        },
    }
}

#[test]
fn property_render_then_parse_is_identity() {
    let mut rng = Rng(42);
    let mut rendered_ok = 0;
    for i in 0..20_000 {
        let options: Vec<_> = (0..rng.below(5)).map(|_| random_option(&mut rng)).collect();
        let comment: Option<Cow<'static, str>> = match rng.below(3) {
            0 => None,
            _ => Some(
                random_value(&mut rng)
                    .trim_matches([' ', '\t'])
                    .to_string()
                    .into(),
            )
            .filter(|c: &Cow<str>| !c.is_empty()),
        };
        let key_type = *rng.pick(&[
            "sk-ssh-ed25519@openssh.com",
            "sk-ecdsa-sha2-nistp256@openssh.com",
            "ssh-ed25519",
        ]);
        let line = AuthorizedKeyLine {
            options,
            key_type: key_type.into(),
            key_base64: BLOB.into(),
            comment,
        };
        let text = match line.render() {
            Ok(t) => t,
            Err(RenderError::TrailingBackslash { .. }) => {
                // The only refusal random values can hit; check it is justified.
                assert!(line
                    .options
                    .iter()
                    .any(|o| o.value().is_some_and(|v| v.ends_with('\\'))));
                continue;
            }
            Err(e) => panic!("iteration {i}: {e}"),
        };
        rendered_ok += 1;
        let parsed = match parse_line(&text) {
            Ok(Line::Key(k)) => k,
            other => panic!("iteration {i}: {text:?} -> {other:?}"),
        };
        assert_eq!(parsed, line, "iteration {i}: {text}");
        // And it renders back byte for byte.
        assert_eq!(parsed.render().unwrap(), text);
    }
    assert!(
        rendered_ok > 10_000,
        "too few renderable samples: {rendered_ok}"
    );
}

#[test]
fn property_single_options_round_trip() {
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let opt = random_option(&mut rng);
        if let Ok(text) = opt.render() {
            assert_eq!(AuthOption::parse(&text).unwrap(), opt, "{text}");
            assert_eq!(render_options(std::slice::from_ref(&opt)).unwrap(), text);
        }
    }
}

#[test]
fn property_arbitrary_bytes_never_panic() {
    let mut rng = Rng(0xfeed);
    const SOUP: &[&[u8]] = &[
        b"\"",
        b"\\\"",
        b"\\",
        b",",
        b"=",
        b" ",
        b"\t",
        b"#",
        b"\r",
        b"\n",
        b"\0",
        b"restrict",
        b"from=",
        b"command=\"",
        b"ssh-ed25519",
        b"sk-ssh-ed25519@openssh.com",
        b"AAAA",
        b"====",
        b"\xff",
        b"\xc3",
        b"\xe2\x82",
        b"\xf0\x9f\x98\x80",
    ];
    for i in 0..50_000 {
        let mut line = Vec::new();
        for _ in 0..rng.below(24) {
            if rng.below(4) == 0 {
                line.push(rng.next() as u8);
            } else {
                let piece: &[u8] = SOUP[rng.below(SOUP.len())];
                line.extend_from_slice(piece);
            }
        }
        let result = std::panic::catch_unwind(|| {
            if let Err(e) = parse_line_bytes(&line) {
                assert!(e.column >= 1 && e.byte_offset <= line.len(), "{e:?}");
            }
            if let Ok(s) = std::str::from_utf8(&line) {
                let _ = parse_lines(s).count();
                // Whatever parses renders, and the rendering parses to the same thing.
                if let Ok(Line::Key(k)) = parse_line(s) {
                    if let Ok(text) = k.render() {
                        assert_eq!(
                            parse_line(&text).unwrap(),
                            Line::Key(k.clone()),
                            "{s:?} -> {text:?}"
                        );
                    }
                }
            }
        });
        if result.is_err() {
            panic!(
                "iteration {i} panicked on {:?}",
                String::from_utf8_lossy(&line)
            );
        }
    }
}
