//! Tools for the staff who keep the deadline repository: `import` (a table
//! of deadlines into deadline files), `new` (one deadline), `diff` (what a
//! change does for subscribers).

pub mod diff;
pub mod import;
pub mod new;
pub mod toml_text;

/// The registry the staff tools' tests share: mechanisms named in other
/// languages, topics in three, a name with a comma in it.
#[cfg(test)]
pub(crate) fn test_registry() -> crate::model::registry::Registry {
    let text = r#"
[mechanisms.cedaw]
name = "CEDAW"
full_name = "Committee on the Elimination of Discrimination against Women"
[mechanisms.cedaw.ru]
full_name = "Комитет по ликвидации дискриминации в отношении женщин"
[mechanisms.upr]
name = "UPR"
full_name = "Universal Periodic Review"
[mechanisms.cerd]
name = "CERD"
full_name = "Committee on the Elimination of Racial Discrimination"
[mechanisms.cerd.ru]
full_name = "Комитет по ликвидации расовой дискриминации"
[mechanisms.special-procedures]
name = "Special Procedures"
full_name = "Special Rapporteurs"
[mechanisms.special-procedures.be]
name = "Спецыяльныя працэдуры"

[topics.women]
en = "Women"
ru = "Женщины"
be = "Жанчыны"
[topics.elections]
en = "Elections, referendums"
ru = "Выборы"
[topics.discrimination]
en = "Discrimination"
ru = "Дискриминация"
[topics.freedom-of-association]
en = "Freedom of association"
ru = "Право на свободу ассоциаций"
"#;
    let file = crate::load::diagnostic::SourceFile::new("registry.toml", text);
    let (registry, diags) = crate::load::registry::parse(&file);
    assert!(diags.is_empty(), "{diags:?}");
    registry
}
