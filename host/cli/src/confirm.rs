//! FR-011: the developer confirms the ticket, always, even for one exact match.

use std::io::{BufRead, IsTerminal, Write};

use kitty_origin_host::types::{MatchType, OriginCandidate};

use crate::failure::Failure;
use crate::output;

/// How the choice is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--yes` was given with `--key`: an exact match of that key is confirmed.
    PreConfirmedKey,
    /// Ask on the terminal.
    Ask,
}

/// No ticket matches `key` (or the search).
pub fn no_candidates(key: Option<&str>) -> Failure {
    let what = key.map_or("the search".to_string(), |k| format!("ticket {k}"));
    Failure::new(
        "no_candidates",
        format!("No ticket matches {what}. Search with other words or the exact key; or start the mission without an origin ticket."),
        true,
    )
}

/// The single exact match of `key` among `candidates`, if there is one.
pub fn exact_match(candidates: &[OriginCandidate], key: &str) -> Option<OriginCandidate> {
    let mut exact = candidates.iter().filter(|c| c.match_type == MatchType::Exact && c.external_issue_key.eq_ignore_ascii_case(key.trim()));
    match (exact.next(), exact.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// Why a key search gave no single exact match (for callers that cannot pick
/// among candidates, such as an agent).
pub fn no_exact_match(candidates: &[OriginCandidate], key: &str) -> Failure {
    if candidates.is_empty() {
        return no_candidates(Some(key));
    }
    Failure::new(
        "no_exact_match",
        format!(
            "The control plane returned no single exact match of ticket {key}. Search with search_origin_candidates, \
             and call again with the exact key of the ticket the developer chose."
        ),
        true,
    )
}

/// Picks the confirmed candidate out of `candidates`.
pub fn confirm(candidates: &[OriginCandidate], key: Option<&str>, mode: Mode) -> Result<OriginCandidate, Failure> {
    if candidates.is_empty() {
        return Err(no_candidates(key));
    }
    match mode {
        Mode::PreConfirmedKey => pre_confirmed(candidates, key.unwrap_or_default()),
        Mode::Ask => {
            let stdin = std::io::stdin();
            if !(stdin.is_terminal() && std::io::stderr().is_terminal()) {
                return Err(Failure::usage(
                    "confirmation_required",
                    "A developer must confirm the ticket, and there is no terminal to ask on. Run this in a terminal, \
                     or pass --key KEY --yes to confirm an exact key match from a script.",
                ));
            }
            ask(candidates, &mut stdin.lock(), &mut std::io::stderr())
        }
    }
}

fn pre_confirmed(candidates: &[OriginCandidate], key: &str) -> Result<OriginCandidate, Failure> {
    exact_match(candidates, key).ok_or_else(|| {
        Failure::usage(
            "confirmation_required",
            format!(
                "--yes confirms only a single exact match of --key {key}, and the control plane returned none. Run without --yes to choose."
            ),
        )
    })
}

/// Asks on `input` / `prompt` until the developer picks a candidate or cancels.
pub fn ask(candidates: &[OriginCandidate], input: &mut dyn BufRead, prompt: &mut dyn Write) -> Result<OriginCandidate, Failure> {
    let cancelled = || Failure::new("cancelled", "Cancelled: no mission was created and nothing was bound.", false);
    let _ = write!(prompt, "{}", output::candidates_text(candidates));
    loop {
        let question = if candidates.len() == 1 {
            format!(
                "Use {} \"{}\" as the origin ticket? [y/N] ",
                output::clean(&candidates[0].external_issue_key),
                output::clean(&candidates[0].title)
            )
        } else {
            format!("Which ticket is the origin? [1-{}, q to cancel] ", candidates.len())
        };
        let _ = write!(prompt, "{question}");
        let _ = prompt.flush();
        let mut line = String::new();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            return Err(cancelled());
        }
        let answer = line.trim().to_ascii_lowercase();
        if candidates.len() == 1 {
            return if matches!(answer.as_str(), "y" | "yes") { Ok(candidates[0].clone()) } else { Err(cancelled()) };
        }
        if matches!(answer.as_str(), "q" | "quit" | "") {
            return Err(cancelled());
        }
        match answer.parse::<usize>() {
            Ok(n) if (1..=candidates.len()).contains(&n) => return Ok(candidates[n - 1].clone()),
            _ => {
                let _ = writeln!(prompt, "Type a number from 1 to {}, or q.", candidates.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(key: &str, match_type: MatchType) -> OriginCandidate {
        OriginCandidate {
            external_issue_id: format!("id-{key}"),
            external_issue_key: key.into(),
            title: format!("Title {key}"),
            status: "Todo".into(),
            url: format!("https://x/{key}"),
            match_type,
            body: None,
        }
    }

    #[test]
    fn a_single_exact_match_is_still_asked_about() {
        let one = [candidate("WEB-1", MatchType::Exact)];
        let mut prompt = Vec::new();
        let chosen = ask(&one, &mut "y\n".as_bytes(), &mut prompt).unwrap();
        assert_eq!(chosen.external_issue_key, "WEB-1");
        assert!(String::from_utf8(prompt).unwrap().contains("Use WEB-1 \"Title WEB-1\" as the origin ticket? [y/N]"));
        assert_eq!(ask(&one, &mut "\n".as_bytes(), &mut Vec::new()).unwrap_err().code, "cancelled");
    }

    #[test]
    fn a_number_picks_among_many_and_nonsense_asks_again() {
        let many = [candidate("WEB-1", MatchType::Text), candidate("WEB-2", MatchType::Text)];
        let mut prompt = Vec::new();
        assert_eq!(ask(&many, &mut "7\nx\n2\n".as_bytes(), &mut prompt).unwrap().external_issue_key, "WEB-2");
        assert_eq!(String::from_utf8(prompt).unwrap().matches("Type a number from 1 to 2").count(), 2);
        assert_eq!(ask(&many, &mut "q\n".as_bytes(), &mut Vec::new()).unwrap_err().code, "cancelled");
        assert_eq!(ask(&many, &mut "".as_bytes(), &mut Vec::new()).unwrap_err().code, "cancelled");
    }

    #[test]
    fn yes_takes_only_an_exact_match_of_the_key() {
        let exact = [candidate("WEB-1", MatchType::Exact)];
        assert_eq!(confirm(&exact, Some("web-1"), Mode::PreConfirmedKey).unwrap().external_issue_key, "WEB-1");
        let text = [candidate("WEB-1", MatchType::Text)];
        let err = confirm(&text, Some("WEB-1"), Mode::PreConfirmedKey).unwrap_err();
        assert_eq!((err.code.as_str(), err.exit), ("confirmation_required", 2));
        assert_eq!(confirm(&[], Some("WEB-9"), Mode::PreConfirmedKey).unwrap_err().code, "no_candidates");
    }
}
