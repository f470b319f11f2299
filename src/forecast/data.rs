//! CDC's CDSi supporting data (antigen series, vaccine groups, CVX to antigen, live-virus
//! conflicts, coded observations), read from CDC's own XML, which is compiled into the
//! binary from `assets/cdsi/` (refreshed by `scripts/update-cdsi-data`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use roxmltree::{Document, Node};
use serde::{Deserialize, Serialize};

use super::span::Span;

/// The release of CDC's supporting data compiled in.
pub const SUPPORTING_DATA_VERSION: &str = "4.64";

/// CDC's XML, read into `SupportingData` and kept as JSON, which reads several times
/// faster at start (`tests` check it matches the XML; `scripts/update-cdsi-data` remakes it).
const COMPILED: &str = include_str!("../../assets/cdsi/supporting-data.json");

/// CDC's files in `assets/cdsi/`: the schedule, then each antigen's, in CDC's order.
pub const SCHEDULE_FILE: &str = "ScheduleSupportingData.xml";
pub const ANTIGEN_FILES: &[&str] = &[
    "antigen-COVID-19.xml",
    "antigen-Chikungunya.xml",
    "antigen-Cholera.xml",
    "antigen-Dengue.xml",
    "antigen-Diphtheria.xml",
    "antigen-Ebola.xml",
    "antigen-HPV.xml",
    "antigen-HepA.xml",
    "antigen-HepB.xml",
    "antigen-Hib.xml",
    "antigen-Influenza.xml",
    "antigen-JE.xml",
    "antigen-Measles.xml",
    "antigen-Meningococcal-B.xml",
    "antigen-Meningococcal.xml",
    "antigen-Mumps.xml",
    "antigen-Orthopoxvirus.xml",
    "antigen-Pertussis.xml",
    "antigen-Pneumococcal.xml",
    "antigen-Polio.xml",
    "antigen-RSV.xml",
    "antigen-Rabies.xml",
    "antigen-Rotavirus.xml",
    "antigen-Rubella.xml",
    "antigen-TBE.xml",
    "antigen-Tetanus.xml",
    "antigen-Typhoid.xml",
    "antigen-Varicella.xml",
    "antigen-YF.xml",
    "antigen-Zoster.xml",
];

/// All of CDC's supporting data, read once.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct SupportingData {
    pub groups: Vec<VaccineGroup>,
    pub antigens: Vec<Antigen>,
    /// CVX (as a number) to the antigens it carries, each with the ages it counts at.
    pub cvx: BTreeMap<u32, Vec<Association>>,
    pub conflicts: Vec<LiveVirusConflict>,
    pub observations: Vec<CodedObservation>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct VaccineGroup {
    pub name: String,
    /// MMR: every antigen is given together, so the group waits for the last of them.
    pub administer_full: bool,
    pub antigens: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Association {
    pub antigen: String,
    pub begin_age: Option<Span>,
    pub end_age: Option<Span>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveVirusConflict {
    pub previous: u32,
    pub current: u32,
    pub begin: Span,
    pub min_end: Span,
    pub end: Span,
}

/// One of CDSi's coded observations (a condition, a history, a circumstance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodedObservation {
    pub code: String,
    pub title: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Antigen {
    pub name: String,
    pub immunity: Immunity,
    pub contraindications: Vec<Contraindication>,
    pub series: Vec<Series>,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Immunity {
    pub guideline_codes: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    pub exclusion_codes: Vec<String>,
}

/// A contraindication to the whole antigen (`vaccines` empty) or to some vaccines of it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Contraindication {
    pub code: String,
    pub text: String,
    pub begin_age: Option<Span>,
    pub end_age: Option<Span>,
    pub vaccines: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesKind {
    Standard,
    Risk,
    EvaluationOnly,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub vaccine_group: String,
    pub kind: SeriesKind,
    /// "Female", "Male" or "Unknown" when the series is for one only.
    pub required_gender: Option<String>,
    pub default: bool,
    pub product: bool,
    pub group: String,
    pub priority: String,
    pub preference: u32,
    pub min_age_to_start: Option<Span>,
    pub max_age_to_start: Option<Span>,
    pub indications: Vec<Indication>,
    pub doses: Vec<SeriesDose>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Indication {
    pub code: String,
    pub begin_age: Option<Span>,
    pub end_age: Option<Span>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesDose {
    pub ages: Vec<AgeRule>,
    pub intervals: Vec<Interval>,
    pub allowable_intervals: Vec<Interval>,
    pub preferable: Vec<VaccineRule>,
    pub allowable: Vec<VaccineRule>,
    pub inadvertent: Vec<u32>,
    pub skips: Vec<ConditionalSkip>,
    pub recurring: bool,
    pub season: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
}

/// When a rule applies: on a dose's date when evaluating, on the assessment date when forecasting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Effective {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Effective {
    pub fn covers(self, date: NaiveDate) -> bool {
        self.from.is_none_or(|from| date >= from) && self.until.is_none_or(|until| date < until)
    }
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgeRule {
    pub abs_min: Option<Span>,
    pub min: Option<Span>,
    pub earliest_recommended: Option<Span>,
    pub latest_recommended: Option<Span>,
    pub max: Option<Span>,
    pub effective: Effective,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntervalFrom {
    Previous,
    TargetDose(usize),
    MostRecent(Vec<u32>),
    Observation(String),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub from: IntervalFrom,
    pub abs_min: Option<Span>,
    pub min: Option<Span>,
    pub earliest_recommended: Option<Span>,
    pub latest_recommended: Option<Span>,
    /// The recommended dates come from this interval rather than from age.
    pub overrides_age: bool,
    pub effective: Effective,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct VaccineRule {
    pub cvx: u32,
    pub begin_age: Option<Span>,
    pub end_age: Option<Span>,
    pub mvx: Option<String>,
    pub forecast: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipContext {
    Evaluation,
    Forecast,
    Both,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionalSkip {
    pub context: SkipContext,
    /// Sets joined by OR (true) or AND.
    pub any_set: bool,
    pub sets: Vec<SkipSet>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct SkipSet {
    pub description: String,
    pub effective: Effective,
    /// Conditions joined by OR (true) or AND.
    pub any_condition: bool,
    pub conditions: Vec<SkipCondition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionKind {
    Age,
    CompletedSeries,
    Interval,
    CountByAge,
    CountByDate,
    CountByDateAndAge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountLogic {
    GreaterThan,
    EqualTo,
    LessThan,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct SkipCondition {
    pub kind: ConditionKind,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub begin_age: Option<Span>,
    pub end_age: Option<Span>,
    pub interval: Option<Span>,
    pub dose_count: u32,
    pub valid_only: bool,
    pub logic: CountLogic,
    pub vaccine_types: Vec<u32>,
    pub series_groups: Vec<String>,
}

impl SupportingData {
    /// CDC's data compiled into the binary, read on first use.
    pub fn cdc() -> &'static SupportingData {
        static DATA: OnceLock<SupportingData> = OnceLock::new();
        DATA.get_or_init(|| {
            // Fixed at build time and read whole by the tests, so it always reads.
            #[allow(clippy::expect_used)]
            SupportingData::read_compiled().expect("CDC's CDSi supporting data compiled in reads")
        })
    }

    /// Reads the data compiled into the binary afresh (what the first use costs).
    pub fn read_compiled() -> Result<SupportingData, serde_json::Error> {
        serde_json::from_str(COMPILED)
    }

    /// Reads CDC's XML files from a folder (`assets/cdsi/`), as `scripts/update-cdsi-data`
    /// and the tests do.
    pub fn read_folder(dir: &std::path::Path) -> Result<SupportingData, String> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"))
        };
        let schedule = read(SCHEDULE_FILE)?;
        let antigens = ANTIGEN_FILES
            .iter()
            .map(|f| read(f))
            .collect::<Result<Vec<_>, _>>()?;
        SupportingData::read(&schedule, antigens.iter().map(String::as_str))
            .map_err(|e| e.to_string())
    }

    /// Reads the schedule file and each antigen's file.
    pub fn read<'a>(
        schedule: &str,
        antigens: impl Iterator<Item = &'a str>,
    ) -> Result<SupportingData, roxmltree::Error> {
        let mut data = SupportingData::read_schedule(schedule)?;
        data.antigens = antigens
            .map(|text| Document::parse(text).map(|doc| read_antigen(doc.root_element())))
            .collect::<Result<_, _>>()?;
        Ok(data)
    }

    fn read_schedule(schedule: &str) -> Result<SupportingData, roxmltree::Error> {
        let doc = Document::parse(schedule)?;
        let root = doc.root_element();
        let mut data = SupportingData {
            groups: Vec::new(),
            antigens: Vec::new(),
            cvx: BTreeMap::new(),
            conflicts: Vec::new(),
            observations: Vec::new(),
        };
        for group in children(root, "vaccineGroups").flat_map(|n| children(n, "vaccineGroup")) {
            data.groups.push(VaccineGroup {
                name: text(group, "name"),
                administer_full: text(group, "administerFullVaccineGroup") == "Yes",
                antigens: Vec::new(),
            });
        }
        for map in
            children(root, "vaccineGroupToAntigenMap").flat_map(|n| children(n, "vaccineGroupMap"))
        {
            let name = text(map, "name");
            if let Some(group) = data.groups.iter_mut().find(|g| g.name == name) {
                group.antigens = children(map, "antigen").map(|a| own_text(a)).collect();
            }
        }
        for map in children(root, "cvxToAntigenMap").flat_map(|n| children(n, "cvxMap")) {
            let Some(cvx) = cvx_of(&text(map, "cvx")) else {
                continue;
            };
            let associations = children(map, "association")
                .map(|a| Association {
                    antigen: text(a, "antigen"),
                    begin_age: span(a, "associationBeginAge"),
                    end_age: span(a, "associationEndAge"),
                })
                .collect();
            data.cvx.insert(cvx, associations);
        }
        for conflict in
            children(root, "liveVirusConflicts").flat_map(|n| children(n, "liveVirusConflict"))
        {
            let cvx_in = |tag| child(conflict, tag).and_then(|n| cvx_of(&text(n, "cvx")));
            if let (Some(previous), Some(current), Some(begin), Some(min_end), Some(end)) = (
                cvx_in("previous"),
                cvx_in("current"),
                span(conflict, "conflictBeginInterval"),
                span(conflict, "minConflictEndInterval"),
                span(conflict, "conflictEndInterval"),
            ) {
                data.conflicts.push(LiveVirusConflict {
                    previous,
                    current,
                    begin,
                    min_end,
                    end,
                });
            }
        }
        for observation in children(root, "observations").flat_map(|n| children(n, "observation")) {
            data.observations.push(CodedObservation {
                code: text(observation, "observationCode"),
                title: text(observation, "observationTitle"),
            });
        }
        Ok(data)
    }

    pub fn antigen(&self, name: &str) -> Option<&Antigen> {
        self.antigens.iter().find(|a| a.name == name)
    }

    /// The vaccine group an antigen belongs to.
    pub fn group_of(&self, antigen: &str) -> Option<&VaccineGroup> {
        self.groups
            .iter()
            .find(|g| g.antigens.iter().any(|a| a == antigen))
    }
}

fn read_antigen(root: Node) -> Antigen {
    let immunity = child(root, "immunity")
        .map(|n| Immunity {
            guideline_codes: children(n, "clinicalHistory")
                .map(|c| text(c, "guidelineCode"))
                .collect(),
            birth_date: child(n, "dateOfBirth")
                .and_then(|d| us_date(&text(d, "immunityBirthDate"))),
            exclusion_codes: child(n, "dateOfBirth")
                .into_iter()
                .flat_map(|d| children(d, "exclusion"))
                .map(|e| text(e, "exclusionCode"))
                .collect(),
        })
        .unwrap_or_default();
    let mut contraindications = Vec::new();
    if let Some(node) = child(root, "contraindications") {
        for c in children(node, "vaccineGroup").flat_map(|n| children(n, "contraindication")) {
            contraindications.push(contraindication(c, Vec::new()));
        }
        for c in children(node, "vaccine").flat_map(|n| children(n, "contraindication")) {
            let vaccines = children(c, "contraindicatedVaccine")
                .filter_map(|v| cvx_of(&text(v, "cvx")))
                .collect();
            contraindications.push(contraindication(c, vaccines));
        }
    }
    let series: Vec<Series> = children(root, "series").map(read_series).collect();
    let name = series.first().map(|s| s.name.clone()).unwrap_or_default();
    let name = children(root, "series")
        .next()
        .map(|s| text(s, "targetDisease"))
        .filter(|n| !n.is_empty())
        .unwrap_or(name);
    Antigen {
        name,
        immunity,
        contraindications,
        series,
    }
}

fn contraindication(node: Node, vaccines: Vec<u32>) -> Contraindication {
    Contraindication {
        code: text(node, "observationCode"),
        text: text(node, "contraindicationText"),
        begin_age: span(node, "beginAge"),
        end_age: span(node, "endAge"),
        vaccines,
    }
}

fn read_series(node: Node) -> Series {
    let select = child(node, "selectSeries");
    let pick = |tag| select.map(|s| text(s, tag)).unwrap_or_default();
    let gender = text(node, "requiredGender");
    Series {
        name: text(node, "seriesName"),
        vaccine_group: text(node, "vaccineGroup"),
        kind: match text(node, "seriesType").as_str() {
            "Risk" => SeriesKind::Risk,
            "Evaluation Only" => SeriesKind::EvaluationOnly,
            _ => SeriesKind::Standard,
        },
        required_gender: (!gender.is_empty()).then_some(gender),
        default: pick("defaultSeries") == "Yes",
        product: pick("productPath") == "Yes",
        group: pick("seriesGroup"),
        priority: pick("seriesPriority"),
        preference: pick("seriesPreference").parse().unwrap_or(u32::MAX),
        min_age_to_start: select.and_then(|s| span(s, "minAgeToStart")),
        max_age_to_start: select.and_then(|s| span(s, "maxAgeToStart")),
        indications: children(node, "indication")
            .map(|i| Indication {
                code: child(i, "observationCode")
                    .map(|c| text(c, "code"))
                    .unwrap_or_default(),
                begin_age: span(i, "beginAge"),
                end_age: span(i, "endAge"),
            })
            .collect(),
        doses: children(node, "seriesDose").map(read_dose).collect(),
    }
}

fn read_dose(node: Node) -> SeriesDose {
    SeriesDose {
        ages: children(node, "age")
            .map(|a| AgeRule {
                abs_min: span(a, "absMinAge"),
                min: span(a, "minAge"),
                earliest_recommended: span(a, "earliestRecAge"),
                latest_recommended: span(a, "latestRecAge"),
                max: span(a, "maxAge"),
                effective: effective(a),
            })
            .collect(),
        intervals: children(node, "interval")
            .filter_map(read_interval)
            .collect(),
        allowable_intervals: children(node, "allowableInterval")
            .filter_map(read_interval)
            .collect(),
        preferable: children(node, "preferableVaccine")
            .filter_map(vaccine_rule)
            .collect(),
        allowable: children(node, "allowableVaccine")
            .filter_map(vaccine_rule)
            .collect(),
        inadvertent: children(node, "inadvertentVaccine")
            .filter_map(|v| cvx_of(&text(v, "cvx")))
            .collect(),
        skips: children(node, "conditionalSkip").map(read_skip).collect(),
        recurring: text(node, "recurringDose") == "Yes",
        season: child(node, "seasonalRecommendation")
            .map(|s| (ymd(&text(s, "startDate")), ymd(&text(s, "endDate"))))
            .filter(|(start, end)| start.is_some() || end.is_some()),
    }
}

fn read_interval(node: Node) -> Option<Interval> {
    let from = if text(node, "fromPrevious") == "Y" {
        IntervalFrom::Previous
    } else if let Ok(n) = text(node, "fromTargetDose").parse() {
        IntervalFrom::TargetDose(n)
    } else if !text(node, "fromMostRecent").is_empty() {
        IntervalFrom::MostRecent(cvx_list(&text(node, "fromMostRecent")))
    } else {
        let code = child(node, "fromRelevantObs")
            .map(|o| text(o, "code"))
            .unwrap_or_default();
        if code.is_empty() {
            return None;
        }
        IntervalFrom::Observation(code)
    };
    Some(Interval {
        from,
        abs_min: span(node, "absMinInt"),
        min: span(node, "minInt"),
        earliest_recommended: span(node, "earliestRecInt"),
        latest_recommended: span(node, "latestRecInt"),
        overrides_age: text(node, "intervalPriority").eq_ignore_ascii_case("override"),
        effective: effective(node),
    })
}

fn vaccine_rule(node: Node) -> Option<VaccineRule> {
    let mvx = text(node, "mvx");
    Some(VaccineRule {
        cvx: cvx_of(&text(node, "cvx"))?,
        begin_age: span(node, "beginAge"),
        end_age: span(node, "endAge"),
        mvx: (!mvx.is_empty()).then_some(mvx),
        forecast: text(node, "forecastVaccineType") == "Y",
    })
}

fn read_skip(node: Node) -> ConditionalSkip {
    ConditionalSkip {
        context: match text(node, "context").as_str() {
            "Evaluation" => SkipContext::Evaluation,
            "Forecast" => SkipContext::Forecast,
            _ => SkipContext::Both,
        },
        any_set: text(node, "setLogic").eq_ignore_ascii_case("OR"),
        sets: children(node, "set")
            .map(|set| SkipSet {
                description: text(set, "setDescription"),
                effective: effective(set),
                any_condition: text(set, "conditionLogic").eq_ignore_ascii_case("OR"),
                conditions: children(set, "condition")
                    .filter_map(read_condition)
                    .collect(),
            })
            .collect(),
    }
}

fn read_condition(node: Node) -> Option<SkipCondition> {
    let kind = match text(node, "conditionType").to_ascii_lowercase().as_str() {
        "age" => ConditionKind::Age,
        "completed series" => ConditionKind::CompletedSeries,
        "interval" => ConditionKind::Interval,
        "vaccine count by age" => ConditionKind::CountByAge,
        "vaccine count by date" => ConditionKind::CountByDate,
        "vaccine count by date and age" => ConditionKind::CountByDateAndAge,
        _ => return None,
    };
    Some(SkipCondition {
        kind,
        start_date: ymd(&text(node, "startDate")),
        end_date: ymd(&text(node, "endDate")),
        begin_age: span(node, "beginAge"),
        end_age: span(node, "endAge"),
        interval: span(node, "interval"),
        dose_count: text(node, "doseCount").parse().unwrap_or(0),
        valid_only: text(node, "doseType").eq_ignore_ascii_case("valid"),
        logic: match text(node, "doseCountLogic").to_ascii_lowercase().as_str() {
            "equal to" => CountLogic::EqualTo,
            "less than" => CountLogic::LessThan,
            _ => CountLogic::GreaterThan,
        },
        vaccine_types: cvx_list(&text(node, "vaccineTypes")),
        series_groups: text(node, "seriesGroups")
            .split(';')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

fn effective(node: Node) -> Effective {
    Effective {
        from: ymd(&text(node, "effectiveDate")),
        until: ymd(&text(node, "cessationDate")),
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, tag: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| c.has_tag_name(tag))
}

fn child<'a, 'i>(node: Node<'a, 'i>, tag: &'static str) -> Option<Node<'a, 'i>> {
    children(node, tag).next()
}

fn own_text(node: Node) -> String {
    node.text().unwrap_or_default().trim().to_string()
}

fn text(node: Node, tag: &'static str) -> String {
    child(node, tag).map(own_text).unwrap_or_default()
}

fn span(node: Node, tag: &'static str) -> Option<Span> {
    Span::parse(&text(node, tag))
}

/// A CVX code as a number, so "03" and "3" are one code.
pub fn cvx_of(code: &str) -> Option<u32> {
    code.trim().parse().ok()
}

fn cvx_list(text: &str) -> Vec<u32> {
    text.split([';', ',']).filter_map(cvx_of).collect()
}

fn ymd(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}

fn us_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%m/%d/%Y").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CDSi's coded observations as a code table for the form's picker.
    fn observation_table(data: &SupportingData) -> String {
        let entries: Vec<serde_json::Value> = data
            .observations
            .iter()
            .map(|o| serde_json::json!({"code": o.code, "display": o.title}))
            .collect();
        let table = serde_json::json!({
            "name": "CDSi coded observations",
            "system": "urn:cdc:cdsi:observation",
            "source": format!("CDC CDSi supporting data {SUPPORTING_DATA_VERSION}, ScheduleSupportingData.xml (made by scripts/update-cdsi-data)"),
            "entries": entries,
        });
        serde_json::to_string_pretty(&table).unwrap() + "\n"
    }

    /// The JSON compiled in is CDC's XML read, and the observation table its list;
    /// `VAXENTRY_UPDATE_CDSI=1` writes both anew.
    #[test]
    fn the_compiled_data_is_cdcs_xml_read() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/cdsi");
        let from_xml = SupportingData::read_folder(&dir).unwrap();
        let json = serde_json::to_string(&from_xml).unwrap() + "\n";
        let table = observation_table(&from_xml);
        let table_path = dir.join("../codes/observation.json");
        if std::env::var_os("VAXENTRY_UPDATE_CDSI").is_some() {
            std::fs::write(dir.join("supporting-data.json"), &json).unwrap();
            std::fs::write(&table_path, &table).unwrap();
            return;
        }
        assert!(
            std::fs::read_to_string(&table_path).unwrap() == table,
            "assets/codes/observation.json is not CDSi's coded observations: run scripts/update-cdsi-data"
        );
        assert!(
            json == COMPILED,
            "assets/cdsi/supporting-data.json is not CDC's XML read: run scripts/update-cdsi-data"
        );
        assert_eq!(SupportingData::read_compiled().unwrap(), from_xml);
    }

    #[test]
    fn cdcs_data_reads_whole() {
        let data = SupportingData::cdc();
        assert_eq!(data.antigens.len(), 30);
        assert!(
            data.antigens.iter().all(|a| !a.series.is_empty()),
            "every antigen has a series"
        );
        let mmr = data.groups.iter().find(|g| g.name == "MMR").unwrap();
        assert!(mmr.administer_full);
        assert_eq!(mmr.antigens, ["Measles", "Mumps", "Rubella"]);
        assert_eq!(data.group_of("Pertussis").unwrap().name, "DTaP/Tdap/Td");
        let mut antigens: Vec<_> = data.cvx[&110].iter().map(|a| a.antigen.as_str()).collect();
        antigens.sort_unstable();
        assert_eq!(
            antigens,
            ["Diphtheria", "HepB", "Pertussis", "Polio", "Tetanus"]
        );
        assert!(
            data.conflicts
                .iter()
                .any(|c| c.previous == 3 && c.current == 21)
        );
        let measles = data.antigen("Measles").unwrap();
        assert_eq!(
            measles.immunity.birth_date,
            NaiveDate::from_ymd_opt(1957, 1, 1)
        );
        assert!(
            data.observations
                .iter()
                .any(|o| o.code == "007" && o.title == "Pregnant")
        );
        let first = &measles.series[0].doses[0];
        assert_eq!(first.ages[0].min, Span::parse("12 months"));
        assert_eq!(first.preferable[0].cvx, 3);
    }
}
