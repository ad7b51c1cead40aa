//! The languages of feeds and pages (English, Russian) and their fixed texts.

use chrono::{Datelike, NaiveDate};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The preferred supported language of an `Accept-Language` header
    /// (highest q first, ties in header order); `None` if none is supported.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            // Belarusian readers read Russian more often than English.
            let lang = match primary {
                "en" => Lang::En,
                "ru" | "be" => Lang::Ru,
                _ => continue,
            };
            if q <= 0.0 {
                continue;
            }
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
        }
    }

    /// `15 July 2024` / `15 июля 2024`.
    pub fn date(self, d: NaiveDate) -> String {
        let month = self.texts().months_genitive[d.month0() as usize];
        format!("{} {month} {}", d.day(), d.year())
    }

    /// `July 2024` / `Июль 2024`.
    pub fn month(self, d: NaiveDate) -> String {
        format!("{} {}", self.texts().months[d.month0() as usize], d.year())
    }

    /// "in 3 days", "today", "2 days ago" (with Russian plural forms).
    pub fn days_left(self, n: i64) -> String {
        match self {
            Lang::En => match n {
                0 => "today".into(),
                1 => "tomorrow".into(),
                -1 => "yesterday".into(),
                n if n > 0 => format!("in {n} days"),
                n => format!("{} days ago", -n),
            },
            Lang::Ru => match n {
                0 => "сегодня".into(),
                1 => "завтра".into(),
                -1 => "вчера".into(),
                n if n > 0 => format!("через {n} {}", ru_days(n)),
                n => format!("{} {} назад", -n, ru_days(-n)),
            },
        }
    }
}

/// день / дня / дней.
fn ru_days(n: i64) -> &'static str {
    let (m10, m100) = (n % 10, n % 100);
    if m10 == 1 && m100 != 11 {
        "день"
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        "дня"
    } else {
        "дней"
    }
}

/// Fixed texts of one language.
pub struct Texts {
    pub months: [&'static str; 12],
    pub months_genitive: [&'static str; 12],
    pub due: &'static str,
    pub end_of_day: &'static str,
    pub submit_to: &'static str,
    pub link: &'static str,
    pub topics: &'static str,
    pub mechanisms: &'static str,
    pub mechanism: &'static str,
    pub status: &'static str,
    pub tentative: &'static str,
    pub cancelled: &'static str,
    pub country: &'static str,
    pub past: &'static str,
    pub no_upcoming: &'static str,
    pub subscribe: &'static str,
    pub subscribe_button: &'static str,
    pub copy_url: &'static str,
    pub howto_google: &'static str,
    pub howto_apple: &'static str,
    pub howto_outlook: &'static str,
    pub add_to_calendar: &'static str,
    pub back: &'static str,
    pub filter_all: &'static str,
    pub other_formats: &'static str,
}

pub static EN: Texts = Texts {
    months: [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    months_genitive: [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    due: "Due",
    end_of_day: "end of day",
    submit_to: "Submit to",
    link: "Link",
    topics: "Topics",
    mechanisms: "Mechanisms",
    mechanism: "Mechanism",
    status: "Status",
    tentative: "tentative",
    cancelled: "cancelled",
    country: "Country",
    past: "Past deadlines",
    no_upcoming: "No upcoming deadlines.",
    subscribe: "Subscribe to this calendar",
    subscribe_button: "Subscribe (webcal)",
    copy_url: "Or copy this address into your calendar:",
    howto_google: "Google Calendar: Other calendars → + → From URL, paste the address. Google refreshes subscribed calendars only every 12–24 hours and ignores their alarms; e-mail reminders are more reliable.",
    howto_apple: "Apple Calendar (Mac, iPhone): click “Subscribe”, or File → New Calendar Subscription and paste the address.",
    howto_outlook: "Outlook: Add calendar → Subscribe from web, paste the address.",
    add_to_calendar: "Add to calendar (.ics)",
    back: "All deadlines",
    filter_all: "all",
    other_formats: "Other formats",
};

pub static RU: Texts = Texts {
    months: [
        "Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь",
        "Октябрь", "Ноябрь", "Декабрь",
    ],
    months_genitive: [
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
        "октября", "ноября", "декабря",
    ],
    due: "Срок",
    end_of_day: "до конца дня",
    submit_to: "Куда подавать",
    link: "Ссылка",
    topics: "Темы",
    mechanisms: "Механизмы",
    mechanism: "Механизм",
    status: "Статус",
    tentative: "предварительно",
    cancelled: "отменено",
    country: "Страна",
    past: "Прошедшие дедлайны",
    no_upcoming: "Предстоящих дедлайнов нет.",
    subscribe: "Подписаться на этот календарь",
    subscribe_button: "Подписаться (webcal)",
    copy_url: "Или скопируйте этот адрес в свой календарь:",
    howto_google: "Google Календарь: Другие календари → + → Добавить по URL, вставьте адрес. Google обновляет подписки лишь раз в 12–24 часа и не показывает их напоминания; напоминания по e-mail надёжнее.",
    howto_apple: "Календарь Apple (Mac, iPhone): нажмите «Подписаться» или Файл → Новая подписка на календарь и вставьте адрес.",
    howto_outlook: "Outlook: Добавить календарь → Подписаться из Интернета, вставьте адрес.",
    add_to_calendar: "Добавить в календарь (.ics)",
    back: "Все дедлайны",
    filter_all: "все",
    other_formats: "Другие форматы",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_table() {
        let cases = [
            ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", Some(Lang::Ru)),
            ("en-GB,en;q=0.9,ru;q=0.8", Some(Lang::En)),
            ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", Some(Lang::Ru)),
            ("be,en;q=0.5", Some(Lang::Ru)),
            ("fr", None),
            ("en;q=0, ru;q=0.1", Some(Lang::Ru)),
            ("", None),
            ("*", None),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::from_accept_language(header), expected, "{header}");
        }
    }

    #[test]
    fn russian_plurals_and_dates() {
        let cases = [
            (1, "завтра"),
            (2, "через 2 дня"),
            (5, "через 5 дней"),
            (11, "через 11 дней"),
            (21, "через 21 день"),
            (22, "через 22 дня"),
            (-3, "3 дня назад"),
        ];
        for (n, expected) in cases {
            assert_eq!(Lang::Ru.days_left(n), expected);
        }
        let d = NaiveDate::from_ymd_opt(2024, 7, 15).unwrap();
        assert_eq!(Lang::Ru.date(d), "15 июля 2024");
        assert_eq!(Lang::En.date(d), "15 July 2024");
        assert_eq!(Lang::Ru.month(d), "Июль 2024");
    }
}
