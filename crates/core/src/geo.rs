//! A place on Earth: where an airport or a venue is, so a wallet pass can surface on the lock screen near it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A latitude and longitude in degrees (WGS 84), held in millionths of a degree (about 11 cm): exact to compare
/// and to store, and finer than anything a pass needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GeoPoint {
    lat_e6: i32,
    lon_e6: i32,
}

impl GeoPoint {
    /// A point from degrees; `None` unless the latitude is within ±90 and the longitude within ±180.
    pub fn from_degrees(latitude: f64, longitude: f64) -> Option<Self> {
        let ok = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
        // In range, both fit an i32 in millionths (±180,000,000); NaN fails the range check.
        ok.then(|| GeoPoint { lat_e6: (latitude * 1e6).round() as i32, lon_e6: (longitude * 1e6).round() as i32 })
    }

    pub fn latitude(&self) -> f64 {
        f64::from(self.lat_e6) / 1e6
    }

    pub fn longitude(&self) -> f64 {
        f64::from(self.lon_e6) / 1e6
    }
}

#[derive(Serialize, Deserialize)]
struct Degrees {
    latitude: f64,
    longitude: f64,
}

impl Serialize for GeoPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Degrees { latitude: self.latitude(), longitude: self.longitude() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for GeoPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Degrees { latitude, longitude } = Degrees::deserialize(d)?;
        GeoPoint::from_degrees(latitude, longitude)
            .ok_or_else(|| serde::de::Error::custom("latitude must be within ±90 and longitude within ±180"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_within_range_round_trip_through_json() {
        let anfield = GeoPoint::from_degrees(53.430_819, -2.960_828).expect("in range");
        assert_eq!((anfield.latitude(), anfield.longitude()), (53.430_819, -2.960_828));
        let json = serde_json::to_value(anfield).expect("json");
        assert_eq!(json, serde_json::json!({"latitude": 53.430819, "longitude": -2.960828}));
        assert_eq!(serde_json::from_value::<GeoPoint>(json).expect("parse"), anfield);
        for (lat, lon) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)] {
            assert!(GeoPoint::from_degrees(lat, lon).is_some(), "{lat} {lon}");
        }
    }

    #[test]
    fn out_of_range_or_not_a_number_is_refused() {
        for (lat, lon) in [(90.1, 0.0), (0.0, -180.5), (f64::NAN, 0.0), (0.0, f64::INFINITY)] {
            assert_eq!(GeoPoint::from_degrees(lat, lon), None, "{lat} {lon}");
        }
        let bad = serde_json::json!({"latitude": 91, "longitude": 0});
        assert!(serde_json::from_value::<GeoPoint>(bad).is_err());
    }
}
