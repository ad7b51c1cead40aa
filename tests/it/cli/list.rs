//! `mechcal list` and `default-config`.

use super::*;

#[test]
fn list_upcoming_as_a_table() {
    let out = mechcal(&root(), &["list", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @r"
    DUE                    LEFT                  MECHANISM              TITLE
    2026-12-01             in 8 days             CRC                    CRC: input for the February pre-sessional working group [tentative]
    2026-12-10             in 17 days            OSCE Moscow Mechanism  Пример: сведения для миссии Московского механизма ОБСЕ [tentative]
    2027-01-15             in 53 days            CEDAW                  Пример: альтернативный доклад в КЛДЖ
    2027-02-01 23:59 +03   in 70 days            Special Procedures     Example: call for input on freedom of association in exile
    2027-03-31 12:00 CEST  in 128 days           UPR                    Пример: доклад заинтересованных сторон для УПО
    2027-04-01             in 129 days           CRC                    CRC: input for the June pre-sessional working group [tentative]
    2027-04-08 12:00 CEST  in 136 days           UPR                    Stakeholder submission — Example: UPR review of Belarus [tentative]
    2027-04-15             in 143 days           ODIHR hate crime       Example: hate crime data for the ODIHR annual report
    2027-04-30             in 158 days           ODIHR hate crime       Hate crime information for the previous year (ODIHR annual hate crime report) [tentative]
    2027-08-01             in 251 days           CRC                    CRC: input for the October pre-sessional working group [tentative]
    2027-08-20             in 270 days           UPR                    Application to speak at the pre-session — Example: UPR review of Belarus [tentative]
    2027-11-05             in 347 days           UPR                    Review in the Working Group — Example: UPR review of Belarus [tentative]
    2027-12-01             in 373 days           CRC                    CRC: input for the February pre-sessional working group [tentative]
    2028-03-20             in 483 days           UPR                    Adoption of the outcome — Example: UPR review of Belarus [tentative]
    2028-04-01             in 495 days           CRC                    CRC: input for the June pre-sessional working group [tentative]
    2028-04-30             in 524 days           ODIHR hate crime       Hate crime information for the previous year (ODIHR annual hate crime report) [tentative]
    2028-08-01             in 617 days           CRC                    CRC: input for the October pre-sessional working group [tentative]
    open                   until further notice  Special Procedures     Example: testimonies on enforced disappearances, open until further notice
    ");
}

#[test]
fn list_filters_and_all() {
    let out = mechcal(
        &root(),
        &[
            "list", "--now", NOW, "--all", "--topic", "women", "--topic", "upr",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @r"
    DUE                    LEFT          MECHANISM  TITLE
    2024-04-13             954 days ago  HRC        Центральное значение у… [tentative]
    2025-03-13             620 days ago  UPR        Доклад для Универсальн…
    2027-01-15             in 53 days    CEDAW      Пример: альтернативный доклад в КЛДЖ
    2027-03-31 12:00 CEST  in 128 days   UPR        Пример: доклад заинтересованных сторон для УПО
    2027-04-08 12:00 CEST  in 136 days   UPR        Stakeholder submission — Example: UPR review of Belarus [tentative]
    2027-08-20             in 270 days   UPR        Application to speak at the pre-session — Example: UPR review of Belarus [tentative]
    2027-11-05             in 347 days   UPR        Review in the Working Group — Example: UPR review of Belarus [tentative]
    2028-03-20             in 483 days   UPR        Adoption of the outcome — Example: UPR review of Belarus [tentative]
    ");
    // Topics OR'ed, AND'ed with mechanisms.
    let out = mechcal(
        &root(),
        &[
            "list",
            "--now",
            NOW,
            "--topic",
            "women",
            "--topic",
            "upr",
            "--mechanism",
            "cedaw",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("CEDAW"));
    // Cancelled entries only with --all.
    let out = mechcal(&root(), &["list", "--now", NOW, "--mechanism", "crpd"]);
    assert_eq!(text(&out.stdout), "no upcoming deadlines\n");
    let out = mechcal(
        &root(),
        &["list", "--now", NOW, "--mechanism", "crpd", "--all"],
    );
    assert!(text(&out.stdout).contains("[cancelled]"));
}

#[test]
fn list_unknown_filter_is_a_usage_error() {
    let out = mechcal(&root(), &["list", "--topic", "womens"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: unknown topic `womens`\n  help: did you mean `women`?\n"
    );
}

#[test]
fn list_refuses_invalid_data() {
    let (_tmp, dir) = sample_copy();
    fs::write(dir.join("bad.toml"), "[[deadline]]\nid = \"x\"\n").unwrap();
    let config = dir.parent().unwrap().join("mechcal.toml");
    fs::write(
        &config,
        "[calendar]\ndomain = \"x.org\"\n[data]\ndeadlines = \"deadlines\"\n",
    )
    .unwrap();
    let out = mechcal(&root(), &["list", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error: the deadline repository has 4 errors; run `mechcal check`"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn default_config_is_the_shipped_sample() {
    let out = mechcal(&root(), &["default-config"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        fs::read_to_string(root().join("config/mechcal.toml")).unwrap()
    );
}
