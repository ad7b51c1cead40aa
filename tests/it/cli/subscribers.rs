//! `mechcal subscribers`, `remind` and what `check` says of the subscribers file.

use super::*;

/// `check` validates the subscribers file the config names; `subscribers`
/// lists them with masked addresses.
#[test]
fn subscribers_are_checked_and_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let subs = dir.join("subscribers.toml");
    let cfg = config.to_str().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&subs, fs::Permissions::from_mode(0o644)).unwrap();
        let out = mechcal(dir, &["--config", cfg, "check", "--now", NOW]);
        assert_eq!(out.status.code(), Some(0));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("warning: the subscribers file can be read by others (mode 644)"),
            "{stderr}"
        );
        fs::set_permissions(&subs, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = mechcal(dir, &["--config", cfg, "check", "--now", NOW]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "ok: 18 deadlines in 9 files: 29 dates, 18 upcoming; 3 subscribers\n"
    );

    let out = mechcal(dir, &["--config", cfg, "subscribers", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("w***@example.org"), "{listing}");
    assert!(
        !listing.contains("womens-rights@example.org"),
        "addresses are masked by default"
    );
    insta::assert_snapshot!(listing, @"
    NAME                                       EMAIL             TOPICS                MECHANISMS               DAYS     ZONE            LANG  DIGEST  UPCOMING
    Example: a women's rights CSO              w***@example.org  women,discrimination  all                      30,7,1   Europe/Vilnius  ru    yes     2
    Example: a lawyer following treaty bodies  l***@example.org  all                   cedaw,cerd,crpd,cat,crc  60,14,3  Europe/Zurich   en    no      7
    Example: everything, in English            a***@example.org  all                   all                      30,7,1   Europe/Zurich   en    yes     18
    3 subscribers
    ");
    let out = mechcal(dir, &["--config", cfg, "subscribers", "--show-emails"]);
    assert!(text(&out.stdout).contains("womens-rights@example.org"));

    // A broken subscribers file fails the check with its places.
    fs::write(
        &subs,
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example\"\ntopics = [\"womens\"]\n",
    )
    .unwrap();
    let out = mechcal(dir, &["--config", cfg, "check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("subscribers.toml:3:9: error: `email` is not a valid e-mail address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("subscribers.toml:4:11: error: unknown topic `womens`"),
        "{stderr}"
    );
    let out = mechcal(dir, &["--config", cfg, "subscribers"]);
    assert_eq!(out.status.code(), Some(1));
}

/// `remind --dry-run` prints the plan and creates nothing.
#[test]
fn remind_dry_run_plans_without_changing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap();
    // 2027-01-08: the CEDAW example's 30- and 14-day reminders are both due
    // for whoever was never reminded: only the 14-day one is sent.
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-01-08T08:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @"
    3 messages, 3 skipped reminders
    to w***@example.org (ru, Europe/Vilnius):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 января 2027 (через 7 дней)
    to l***@example.org (en, Europe/Zurich):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 January 2027 (in 7 days)
    to a***@example.org (en, Europe/Zurich):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 January 2027 (in 7 days)
      reminder 30d: [Special Procedures] Example: call for input on freedom of association in exile — due 1 February 2027, 21:59 CET (in 24 days)
    ");
    assert!(
        !dir.join("var").exists(),
        "a dry run creates no state database"
    );
}

/// `remind` delivers to a Maildir: nothing twice, an interrupted message sent
/// again with its Message-ID, opt-outs respected and lifted by staff.
#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
fn remind_delivers_once_recovers_and_respects_opt_outs() {
    use mechcal::reminders::plan::{Delivery as Row, Key, Kind};
    use mechcal::state::Database;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap();
    let maildir = dir.join("var/maildir/new");
    let messages = || {
        let mut names: Vec<String> = fs::read_dir(&maildir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };

    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-01-08T08:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "sent 3 messages (0 resent after an interrupted pass), skipped 3 reminders, failed 0, deferred 0\n"
    );
    let first = messages();
    assert_eq!(first.len(), 3);
    let stderr = text(&out.stderr);
    for address in [
        "womens-rights@example.org",
        "lawyer@example.org",
        "all-deadlines@example.org",
    ] {
        assert!(
            !stderr.contains(address),
            "a full address in the logs: {stderr}"
        );
    }
    assert!(
        stderr.contains("reminder sent to=l***@example.org"),
        "{stderr}"
    );
    let mail = fs::read_to_string(maildir.join(&first[0])).unwrap();
    assert!(
        mail.contains("List-Unsubscribe: <https://calendar.example.org/unsubscribe?token="),
        "{mail}"
    );
    assert!(dir.join("var/unsubscribe.secret").exists());

    // The same pass again: nothing twice.
    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-01-08T09:00:00Z"],
    );
    assert!(
        text(&out.stdout).starts_with("sent 0 messages"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(messages(), first);

    // A pass that died after writing `sending`: the next pass sends that very
    // message again, under the Message-ID recorded for it.
    let address_key =
        mechcal::subscriptions::AddressKey::load(&dir.join("var/address.key")).unwrap();
    let key = Key {
        subscriber: address_key.id("all-deadlines@example.org").into(),
        deadline: "example-odihr-hate-crime-2027".into(),
        due_at: "2027-04-15T22:00:00Z".parse().unwrap(),
        kind: Kind::Remind(7),
    };
    Database::open(&dir.join("var/state.sqlite"))
        .unwrap()
        .record(
            &[key],
            Row::Sending,
            Some("<crashed@calendar.example.org>"),
            None,
            "2027-04-08T08:00:00Z".parse().unwrap(),
        )
        .unwrap();
    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-04-08T08:30:00Z"],
    );
    assert!(
        text(&out.stdout).contains("(1 resent after an interrupted pass)"),
        "{}",
        text(&out.stdout)
    );
    let resent = messages()
        .into_iter()
        .filter(|m| !first.contains(m))
        .collect::<Vec<_>>();
    let found = resent.iter().any(|m| {
        fs::read_to_string(maildir.join(m))
            .unwrap()
            .contains("Message-ID: <crashed@calendar.example.org>")
    });
    assert!(found, "the interrupted message keeps its Message-ID");

    // Opted out: nothing more; staff lift it with a command.
    let mut state = Database::open(&dir.join("var/state.sqlite")).unwrap();
    state
        .opt_out(
            &address_key.id("womens-rights@example.org"),
            "2027-04-09T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    drop(state);
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-04-14T08:00:00Z",
        ],
    );
    assert!(
        !text(&out.stdout).contains("w***@example.org"),
        "{}",
        text(&out.stdout)
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "subscribers",
            "resubscribe",
            "womens-rights@example.org",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        "w***@example.org will get reminders again\n"
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-04-14T08:00:00Z",
        ],
    );
    assert!(
        text(&out.stdout).contains("w***@example.org"),
        "{}",
        text(&out.stdout)
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "subscribers",
            "resubscribe",
            "womens-rights@example.org",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Under systemd, the unsubscribe secret comes from the credential
/// directory (`LoadCredential=`), ahead of the configured file, which is
/// then neither read nor created: the links verify under that secret, as
/// those made with it given through the environment do (each run's links
/// carry their rows' own random values, so they are compared by the
/// secret that signed them, not as text).
#[test]
fn systemd_credentials_take_precedence_over_the_secret_file() {
    let run = |env: &[(&str, &str)]| -> (Vec<String>, bool) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let config = reminders_setup(dir);
        let creds = dir.join("credentials");
        fs::create_dir_all(&creds).unwrap();
        fs::write(creds.join("unsubscribe-secret"), "a secret of 24 bytes....").unwrap();
        // One address key for every run (links name the subscriber by it):
        // as a credential, and as the file for the runs without one.
        fs::write(
            creds.join("address-key"),
            "an address key of 32 bytes......",
        )
        .unwrap();
        fs::create_dir_all(dir.join("var")).unwrap();
        common::write_private(
            &dir.join("var/address.key"),
            "an address key of 32 bytes......",
        );
        let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .current_dir(dir)
            .args(["--config", config.to_str().unwrap()])
            .args(["remind", "--now", "2027-01-08T08:00:00Z"])
            .env_remove("MECHCAL_UNSUBSCRIBE_SECRET")
            .env_remove("CREDENTIALS_DIRECTORY")
            .envs(
                env.iter()
                    .map(|(k, v)| (*k, v.replace("{creds}", creds.to_str().unwrap()))),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let mut links: Vec<String> = fs::read_dir(dir.join("var/maildir/new"))
            .unwrap()
            .map(|e| {
                let mail = fs::read_to_string(e.unwrap().path()).unwrap();
                mail.lines()
                    .find(|l| l.starts_with("List-Unsubscribe: "))
                    .unwrap()
                    .to_string()
            })
            .collect();
        links.sort();
        (links, dir.join("var/unsubscribe.secret").exists())
    };
    let (from_credential, created) = run(&[("CREDENTIALS_DIRECTORY", "{creds}")]);
    assert!(
        !created,
        "the secret file was created despite the credential"
    );
    let (from_env, _) = run(&[("MECHCAL_UNSUBSCRIBE_SECRET", "a secret of 24 bytes....")]);
    let (from_file, created) = run(&[]);
    assert!(created);
    let secret = mechcal::reminders::tokens::Secret::new(*b"a secret of 24 bytes....");
    let signed = |links: &[String]| -> usize {
        links
            .iter()
            .filter(|l| {
                let token = l.split("token=").nth(1).unwrap().trim_end_matches('>');
                mechcal::subscriptions::links::verify(
                    &secret,
                    mechcal::subscriptions::links::Purpose::Unsubscribe,
                    token,
                )
                .is_some()
            })
            .count()
    };
    assert_eq!(from_credential.len(), 3);
    assert_eq!(signed(&from_credential), 3, "{from_credential:?}");
    assert_eq!(signed(&from_env), 3, "{from_env:?}");
    assert_eq!(signed(&from_file), 0, "{from_file:?}");
}

/// `check` masks addresses in what it says about the subscribers file;
/// staff on their own machine may ask to see them.
#[test]
fn check_masks_subscriber_addresses_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let config = reminders_setup(tmp.path());
    common::write_private(
        &tmp.path().join("subscribers.toml"),
        "[[subscriber]]\nname = \"A\"\nemail = \"anna.private@example.org\"\n\n\
         [[subscriber]]\nname = \"B\"\nemail = \"ANNA.private@example.org\"\n",
    );
    let args = ["--config", config.to_str().unwrap(), "check", "--now", NOW];
    let out = mechcal(tmp.path(), &args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("this address is subscribed twice"),
        "{stderr}"
    );
    assert!(stderr.contains("\"A***@example.org\""), "{stderr}");
    assert!(!stderr.to_lowercase().contains("anna.private"), "{stderr}");
    let out = mechcal(tmp.path(), &[&args[..], &["--show-emails"]].concat());
    assert!(text(&out.stderr).contains("ANNA.private@example.org"));
}
