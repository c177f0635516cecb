//! [`route_database!`]: a backend's [`crate::Database`] impl as a table from each method to the function that
//! implements it, so a backend writes each route on one line instead of a forwarding method.

#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;

/// Implements [`crate::Database`] for a backend type by forwarding every method to a function, called with
/// the backend's pool (`pool`), the backend itself (`db`, for the [`crate::scripts`]) or its group-commit
/// writer (`writer`, for the scripts of [`crate::group`]) and then the method's
/// arguments. The function's error only has to convert into [`crate::StorageError`].
///
/// ```ignore
/// route_database! { SqliteDatabase, "sqlite", pool;
///     fn get_agency(id: AgencyId) -> Option<Agency> = pool agencies::get_agency;
///     fn issue(issuance: &NewIssuance, sink: Arc<dyn DocumentSink>) -> IssuanceRecord = writer scripts::issue;
/// }
/// ```
#[macro_export]
macro_rules! route_database {
    ($backend:ty, $name:literal, $pool:ident;
     $(fn $method:ident($($arg:ident: $argty:ty),* $(,)?) -> $ret:ty = $recv:ident $f:path;)*) => {
        #[$crate::route::__async_trait]
        impl $crate::Database for $backend {
            fn backend(&self) -> &'static str {
                $name
            }
            $(
                async fn $method(&self, $($arg: $argty),*) -> $crate::Result<$ret> {
                    $f($crate::route_database!(@recv self $pool $recv), $($arg),*)
                        .await
                        .map_err(::core::convert::Into::into)
                }
            )*
        }
    };
    (@recv $self:ident $pool:ident pool) => { &$self.$pool };
    (@recv $self:ident $pool:ident db) => { $self };
    (@recv $self:ident $pool:ident writer) => { &$self.writer };
}
