//! The code tables against CDC's own rows (assets/cdc/, the files
//! scripts/update-code-tables reads): every CDC row is in the tables as CDC says it,
//! and every NDC reads back from its GTIN through the scan path.

use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};
use vaxentry::codes::products::product;
use vaxentry::codes::{TableId, ndc, table, vis};

const CDC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/cdc/");

fn cdc_file(name: &str) -> String {
    let bytes = std::fs::read(format!("{CDC}{name}")).expect("CDC file");
    // The NDC files are Latin-1; the XML says its own encoding.
    bytes.iter().map(|&b| b as char).collect()
}

fn pipe_rows(name: &str) -> Vec<Vec<String>> {
    cdc_file(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// Each element named `row` of an XML file, as its children's text by tag (for
/// CDC's `<Name>x</Name><Value>y</Value>` rows, by name).
fn xml_rows(name: &str, row: &str) -> Vec<HashMap<String, String>> {
    let text = cdc_file(name);
    let doc = roxmltree::Document::parse(&text).expect("CDC XML");
    doc.descendants()
        .filter(|n| n.has_tag_name(row))
        .map(|n| {
            let mut cells = HashMap::new();
            let mut name = None;
            for child in n.children().filter(|c| c.is_element()) {
                let value = child.text().unwrap_or_default().trim().to_string();
                match child.tag_name().name() {
                    "Name" => name = Some(value),
                    "Value" => {
                        if let Some(name) = name.take() {
                            cells.insert(name, value);
                        }
                    }
                    tag => {
                        cells.insert(tag.to_string(), value);
                    }
                }
            }
            cells
        })
        .collect()
}

fn iso(yyyymmdd: &str) -> Option<String> {
    (yyyymmdd.len() == 8)
        .then(|| format!("{}-{}-{}", &yyyymmdd[..4], &yyyymmdd[4..6], &yyyymmdd[6..]))
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_ndc_row_is_in_the_crosswalk_as_cdc_lists_it() {
    let cvx = table(TableId::Cvx);
    let sale = pipe_rows("NDC_Unit_sale.txt");
    let use_rows = pipe_rows("NDC_Unit_use.txt");
    assert!(sale.len() > 500 && use_rows.len() > 500);
    for (rows, ndc_col, cvx_col, unit) in [(&sale, 14, 12, "sale"), (&use_rows, 14, 11, "use")] {
        for row in rows {
            let package = ndc::find(&row[ndc_col].replace('-', ""))
                .unwrap_or_else(|| panic!("{unit} NDC {} missing", row[ndc_col]));
            assert_eq!(package.ndc, row[ndc_col]);
            assert!(
                if unit == "sale" {
                    package.sale
                } else {
                    package.unit_of_use
                },
                "{} is a unit of {unit}",
                row[ndc_col]
            );
            if cvx.get(&row[cvx_col]).is_some() {
                assert!(
                    package.is_vaccine(&row[cvx_col]),
                    "{} CVX {}",
                    row[ndc_col],
                    row[cvx_col]
                );
            }
            // A vial also sold alone is on the market as the unit of sale says.
            if unit == "sale" || !package.sale {
                assert_eq!(
                    package.start.map(|d| d.to_string()),
                    iso(&row[7]),
                    "{}",
                    row[ndc_col]
                );
                assert_eq!(
                    package.end.map(|d| d.to_string()),
                    iso(&row[8]),
                    "{}",
                    row[ndc_col]
                );
            }
        }
    }
    // An id CDC repeats stands for each of its NDCs: one pair of them is linked.
    let by_id = |rows: &Vec<Vec<String>>| {
        let mut ids: HashMap<String, Vec<String>> = HashMap::new();
        for r in rows {
            ids.entry(r[0].clone()).or_default().push(r[14].clone());
        }
        ids
    };
    let (sale_by_id, use_by_id) = (by_id(&sale), by_id(&use_rows));
    for link in pipe_rows("NDC_Linker.txt") {
        let (Some(sold), Some(used)) = (sale_by_id.get(&link[1]), use_by_id.get(&link[2])) else {
            continue;
        };
        let linked = sold.iter().any(|sold| {
            used.iter().any(|used| {
                let carton = ndc::find(&sold.replace('-', "")).unwrap();
                let vial = ndc::find(&used.replace('-', "")).unwrap();
                carton.mvx.contains(&link[3])
                    && vial.mvx.contains(&link[3])
                    && (sold == used || carton.uses.contains(used) && vial.sales.contains(sold))
            })
        });
        assert!(linked, "{sold:?} holds {used:?}, by {}", link[3]);
    }
}

#[test]
fn cdcs_own_examples_read_as_cdc_says() {
    let shingrix = ndc::find("58160082311").unwrap();
    assert_eq!(
        (shingrix.cvx.as_slice(), shingrix.mvx.as_slice()),
        (&["187".to_string()][..], &["SKB".to_string()][..])
    );
    let mnexspike = ndc::find("80777040060").unwrap();
    assert_eq!(
        (mnexspike.cvx[0].as_str(), mnexspike.mvx[0].as_str()),
        ("334", "MOD")
    );
    assert_eq!(mnexspike.reported().ndc, "80777-0400-17", "its syringe");
    let fluzone_2024 = ndc::find("49281042450").unwrap();
    assert_eq!(fluzone_2024.end.unwrap().to_string(), "2025-06-30");
    assert_eq!(fluzone_2024.routes, ["IM"]);
    let keys: Vec<&str> = vis::for_vaccine("110")
        .iter()
        .map(|d| d.key.as_str())
        .collect();
    assert_eq!(keys, ["dtap", "hepatitis-b", "polio", "multi-pediatric"]);
    assert!(
        product("140").unwrap().makers.contains(&"IDB".to_string()),
        "Flulaval trivalent"
    );
}

#[test]
fn cvx_codes_displays_and_statuses_are_cdcs() {
    let cvx = table(TableId::Cvx);
    let rows = xml_rows("cvx.xml", "CVXInfo");
    assert_eq!(rows.len(), cvx.entries.len());
    for row in rows {
        let code = cvx
            .get(&row["CVXCode"])
            .unwrap_or_else(|| panic!("CVX {}", row["CVXCode"]));
        assert_eq!(code.code, row["CVXCode"]);
        assert_eq!(
            code.display,
            words(&row["ShortDescription"]),
            "CVX {}",
            code.code
        );
        let status = row["Status"].as_str();
        assert_eq!(
            code.active,
            matches!(status, "Active" | "Non-US"),
            "CVX {} is {status}",
            code.code
        );
        assert_eq!(code.non_us, status == "Non-US", "CVX {}", code.code);
    }
}

#[test]
fn mvx_codes_names_and_statuses_are_cdcs() {
    let mvx = table(TableId::Mvx);
    let rows = xml_rows("mvx.xml", "MVXInfo");
    assert_eq!(rows.len(), mvx.entries.len());
    for row in rows {
        let code = mvx.get(&row["MVX_CODE"]).unwrap();
        assert_eq!(code.display, words(&row["Manufacturer Name"]));
        assert_eq!(code.active, row["Status"] == "Active", "MVX {}", code.code);
    }
}

#[test]
fn makers_are_cdcs_product_table_and_ages_name_real_vaccines() {
    for row in xml_rows("tradename.xml", "prodInfo") {
        let Some(cvx) = row
            .get("CVXCode")
            .filter(|c| table(TableId::Cvx).get(c).is_some())
        else {
            continue;
        };
        // A product CDC lists without its maker says nothing about makers.
        if row["MVX Code"].is_empty() {
            continue;
        }
        let p = product(cvx).unwrap_or_else(|| panic!("CVX {cvx}"));
        assert!(
            p.makers.contains(&row["MVX Code"]),
            "CVX {cvx} by {}",
            row["MVX Code"]
        );
        assert!(p.names.contains(&row["CDC Product Name"]), "CVX {cvx}");
    }
    // The ages kept by hand cover every active vaccine on the market when CDC's files
    // were made (an NDC on sale then), but those left unchecked with a reason.
    let hand: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/codes/local/cvx-ages.json"
    )))
    .unwrap();
    let unchecked = hand["not_checked"].as_object().unwrap();
    let on_market = chrono::NaiveDate::from_ymd_opt(2025, 12, 12).unwrap();
    let mut without_ages = BTreeSet::new();
    for package in ndc::all().iter().filter(|p| p.marketed_on(on_market)) {
        for cvx in &package.cvx {
            let active = table(TableId::Cvx)
                .get(cvx)
                .is_some_and(|c| c.active && !c.non_us);
            if active && product(cvx).and_then(|p| p.ages).is_none() && !unchecked.contains_key(cvx)
            {
                without_ages.insert(cvx.clone());
            }
        }
    }
    assert!(
        without_ages.is_empty(),
        "vaccines on the market without licensed ages: {without_ages:?}"
    );
    for cvx in unchecked.keys() {
        assert!(
            product(cvx).and_then(|p| p.ages).is_none(),
            "CVX {cvx} is checked after all"
        );
    }
}

#[test]
fn vis_editions_and_the_cvx_map_are_cdcs() {
    let rows = xml_rows("vis.xml", "VISInfo");
    for row in &rows {
        let (doc, edition) = vis::by_encoded(&row["VIS_encoded_string"])
            .unwrap_or_else(|| panic!("{}", row["VIS_encoded_string"]));
        assert_eq!(doc.gdti, row["VIS_GDTI_document_code"]);
        let (m, d, y) = {
            let parts: Vec<u32> = row["Edition_Date"]
                .split('/')
                .map(|p| p.parse().unwrap())
                .collect();
            (parts[0], parts[1], parts[2] as i32)
        };
        assert_eq!(
            edition.date,
            chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
        );
        assert_eq!(
            edition.current,
            row["status"] == "Current",
            "{}",
            row["VIS_encoded_string"]
        );
    }
    let editions: usize = vis::documents().iter().map(|d| d.editions.len()).sum();
    assert_eq!(editions, rows.len());
    for row in xml_rows("cvxvis.xml", "CVXVISMapping") {
        if table(TableId::Cvx).get(&row["CVXCode"]).is_none() {
            continue;
        }
        let (doc, _) = vis::by_encoded(&row["Fully-encodedString"]).unwrap();
        assert!(
            vis::for_vaccine(&row["CVXCode"])
                .iter()
                .any(|d| d.gdti == doc.gdti),
            "CVX {} goes with {}",
            row["CVXCode"],
            doc.name
        );
    }
}

#[test]
fn funding_codes_and_their_eligibility_are_cdcs() {
    let funding = table(TableId::Funding);
    let text = cdc_file("funding-source-codes.xml");
    let doc = roxmltree::Document::parse(&text).unwrap();
    let codes: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("code"))
        .collect();
    assert_eq!(codes.len(), funding.entries.len());
    for node in codes {
        let value = node
            .children()
            .find(|c| c.has_tag_name("value"))
            .and_then(|c| c.text())
            .unwrap();
        let links: Vec<&str> = node
            .descendants()
            .filter(|n| n.has_tag_name("link-to"))
            .filter_map(|n| n.text())
            .collect();
        let entry = funding.get(value).unwrap();
        assert_eq!(entry.eligibility, links, "{value}");
    }
    assert_eq!(funding.system, "urn:oid:2.16.840.1.114222.4.5.274");
    assert_eq!(
        funding.get("private").unwrap().code,
        "PHC70",
        "old values still read"
    );
    assert_eq!(funding.get("public").unwrap().code, "VXC50");
}

/// The GTIN a pack of `package` carries: the one CDC lists, else one made from a
/// 10-digit form of its NDC that finds only it (indicator 0, `03`, NDC, check digit).
fn gtin_of(package: &ndc::Package) -> Option<String> {
    if let Some(gtin) = &package.gtin {
        return Some(gtin.clone());
    }
    let digits = package.digits();
    let forms = [
        (digits.starts_with('0')).then(|| digits[1..].to_string()),
        (&digits[5..6] == "0").then(|| format!("{}{}", &digits[..5], &digits[6..])),
        (&digits[9..10] == "0").then(|| format!("{}{}", &digits[..9], &digits[10..])),
    ];
    forms
        .into_iter()
        .flatten()
        .find(|ten| matches!(ndc::from_ten_digits(ten).as_slice(), [one] if one.ndc == package.ndc))
        .map(|ten| {
            let body = format!("003{ten}");
            let sum: u32 = body
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
                .sum();
            format!("{body}{}", (10 - sum % 10) % 10)
        })
}

#[test]
fn every_ndc_has_a_gtin_that_reads_back() {
    for package in ndc::all() {
        assert!(
            gtin_of(package).is_some(),
            "{} has no GTIN that finds it",
            package.ndc
        );
    }
}

proptest! {
    /// Every NDC in the crosswalk reads back from its GTIN, scanned in any of the
    /// shapes a scanner types, with any lot and expiry.
    #[test]
    fn every_ndc_reads_back_from_its_gtin_through_a_scan(
        index in 0..ndc::all().len(),
        prefix in prop::sample::select(vec!["", "]d2", "]Q3"]),
        human in any::<bool>(),
        lot in "[A-Z0-9]{1,20}",
        year in 26u32..40,
        month in 1u32..=12,
    ) {
        let package = &ndc::all()[index];
        let gtin = gtin_of(package).unwrap();
        let text = if human {
            format!("(01){gtin}(17){year:02}{month:02}00(10){lot}")
        } else {
            format!("{prefix}01{gtin}17{year:02}{month:02}0010{lot}")
        };
        let Some(Ok(vaxentry::record::scan::Scanned::Pack { package: found, scan })) =
            vaxentry::record::scan::read(&text)
        else {
            panic!("{text} does not read");
        };
        prop_assert_eq!(found.map(|p| p.ndc.as_str()), Some(package.ndc.as_str()));
        prop_assert_eq!(scan.lot, Some(lot));
    }
}
