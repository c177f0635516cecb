//! Apple Wallet passes (`.pkpass`): `pass.json`, the icons, `manifest.json` (the SHA-1 of every other file) and
//! `signature`, a detached PKCS#7 (CMS) signature of the manifest made with the operator's Pass Type ID
//! certificate and carrying Apple's WWDR intermediate certificate, zipped.
//!
//! Signing uses OpenSSL (the `openssl` crate over the system library): it is what Apple's own tooling and
//! every pass library use, and the tests verify its output with the `openssl` command line independently.

use std::fmt;

use bytes::Bytes;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::X509;
use serde_json::{json, Map, Value};

use crate::bundle::zip_bundle;
use crate::error::DocumentError;

const ICON: &[u8] = include_bytes!("../assets/wallet/icon.png");
const ICON_2X: &[u8] = include_bytes!("../assets/wallet/icon@2x.png");

/// The operator's pass-signing identity: the Pass Type ID certificate and its private key, Apple's WWDR
/// intermediate, and the identifiers a pass must name. Debug never shows the key.
pub struct WalletSigner {
    pass_type_id: String,
    team_id: String,
    cert: X509,
    key: PKey<Private>,
    wwdr: X509,
}

impl fmt::Debug for WalletSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletSigner")
            .field("pass_type_id", &self.pass_type_id)
            .field("team_id", &self.team_id)
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

fn wallet_error(what: &str) -> impl FnOnce(openssl::error::ErrorStack) -> DocumentError + '_ {
    move |e| DocumentError::Wallet(format!("{what}: {e}"))
}

impl WalletSigner {
    /// Reads the PEM files' contents; refuses a key that does not belong to the certificate.
    pub fn from_pem(
        cert: &[u8],
        key: &[u8],
        wwdr: &[u8],
        pass_type_id: &str,
        team_id: &str,
    ) -> Result<Self, DocumentError> {
        let cert = X509::from_pem(cert).map_err(wallet_error("the wallet certificate is not a PEM certificate"))?;
        let key = PKey::private_key_from_pem(key).map_err(wallet_error("the wallet key is not a PEM private key"))?;
        let wwdr = X509::from_pem(wwdr).map_err(wallet_error("the WWDR certificate is not a PEM certificate"))?;
        let public = cert.public_key().map_err(wallet_error("the wallet certificate's key"))?;
        if !public.public_eq(&key) {
            return Err(DocumentError::Wallet("the wallet key does not belong to the wallet certificate".into()));
        }
        let ok = |s: &str| !s.trim().is_empty() && s.len() <= 128 && !s.chars().any(char::is_control);
        if !ok(pass_type_id) || !ok(team_id) {
            return Err(DocumentError::Wallet("the pass type id and team id must be set".into()));
        }
        Ok(WalletSigner { pass_type_id: pass_type_id.to_owned(), team_id: team_id.to_owned(), cert, key, wwdr })
    }

    pub fn pass_type_id(&self) -> &str {
        &self.pass_type_id
    }

    /// A detached PKCS#7 signature (DER) of `content`, with the signer's certificate and the WWDR.
    fn sign(&self, content: &[u8]) -> Result<Vec<u8>, DocumentError> {
        let mut chain = Stack::new().map_err(wallet_error("certificate stack"))?;
        chain.push(self.wwdr.clone()).map_err(wallet_error("certificate stack"))?;
        let flags = Pkcs7Flags::BINARY | Pkcs7Flags::DETACHED;
        let signed = Pkcs7::sign(&self.cert, &self.key, &chain, content, flags).map_err(wallet_error("signing"))?;
        signed.to_der().map_err(wallet_error("encoding the signature"))
    }
}

/// The pass style: an event ticket or an air boarding pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassStyle {
    EventTicket,
    BoardingPass,
}

/// One label/value line of a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassField {
    pub key: String,
    pub label: String,
    pub value: String,
}

impl PassField {
    pub fn new(key: &str, label: &str, value: impl Into<String>) -> Self {
        PassField { key: key.into(), label: label.into(), value: value.into() }
    }
}

/// What a pass shows; fields with empty values are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct PassView {
    pub style: PassStyle,
    /// Unique per pass type, stable for one ticket (re-downloading replaces the pass on the phone).
    pub serial_number: String,
    pub organization_name: String,
    pub description: String,
    /// The barcode's message: the signed gate payload.
    pub barcode: String,
    /// When the pass becomes relevant (event start, departure), RFC 3339 with the local offset.
    pub relevant_date: Option<String>,
    /// Latitude and longitude of the venue or airport, when known.
    pub location: Option<(f64, f64)>,
    pub header: Vec<PassField>,
    pub primary: Vec<PassField>,
    pub secondary: Vec<PassField>,
    pub auxiliary: Vec<PassField>,
    pub back: Vec<PassField>,
}

fn fields(list: &[PassField]) -> Value {
    Value::Array(
        list.iter()
            .filter(|f| !f.value.trim().is_empty())
            .map(|f| json!({"key": f.key, "label": f.label, "value": f.value}))
            .collect(),
    )
}

/// `pass.json` of `view` for `signer`'s pass type and team.
pub fn pass_json(view: &PassView, signer: &WalletSigner) -> Value {
    let barcode = json!({
        "format": "PKBarcodeFormatQR",
        "message": view.barcode,
        "messageEncoding": "iso-8859-1",
    });
    let mut structure = Map::new();
    if view.style == PassStyle::BoardingPass {
        structure.insert("transitType".into(), json!("PKTransitTypeAir"));
    }
    for (name, list) in [
        ("headerFields", &view.header),
        ("primaryFields", &view.primary),
        ("secondaryFields", &view.secondary),
        ("auxiliaryFields", &view.auxiliary),
        ("backFields", &view.back),
    ] {
        structure.insert(name.into(), fields(list));
    }
    let mut pass = json!({
        "formatVersion": 1,
        "passTypeIdentifier": signer.pass_type_id,
        "teamIdentifier": signer.team_id,
        "serialNumber": view.serial_number,
        "organizationName": view.organization_name,
        "description": view.description,
        "foregroundColor": "rgb(255, 255, 255)",
        "backgroundColor": "rgb(31, 42, 68)",
        "labelColor": "rgb(190, 200, 220)",
        "barcodes": [barcode.clone()],
        "barcode": barcode,
    });
    let style = match view.style {
        PassStyle::EventTicket => "eventTicket",
        PassStyle::BoardingPass => "boardingPass",
    };
    pass[style] = Value::Object(structure);
    if let Some(date) = &view.relevant_date {
        pass["relevantDate"] = json!(date);
    }
    if let Some((latitude, longitude)) = view.location {
        pass["locations"] = json!([{ "latitude": latitude, "longitude": longitude }]);
    }
    pass
}

/// The `.pkpass` archive of `view`, signed by `signer`.
pub fn render_pkpass(view: &PassView, signer: &WalletSigner) -> Result<Vec<u8>, DocumentError> {
    let pass = serde_json::to_vec_pretty(&pass_json(view, signer))
        .map_err(|e| DocumentError::Wallet(format!("pass.json: {e}")))?;
    let files: Vec<(String, Bytes)> = vec![
        ("pass.json".into(), Bytes::from(pass)),
        ("icon.png".into(), Bytes::from_static(ICON)),
        ("icon@2x.png".into(), Bytes::from_static(ICON_2X)),
    ];
    let manifest: Map<String, Value> =
        files.iter().map(|(name, bytes)| (name.clone(), json!(hex::encode(openssl::sha::sha1(bytes))))).collect();
    let manifest = serde_json::to_vec_pretty(&Value::Object(manifest))
        .map_err(|e| DocumentError::Wallet(format!("manifest.json: {e}")))?;
    let signature = signer.sign(&manifest)?;
    let mut entries = files;
    entries.push(("manifest.json".into(), Bytes::from(manifest)));
    entries.push(("signature".into(), Bytes::from(signature)));
    zip_bundle(&entries)
}
