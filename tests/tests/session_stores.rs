//! The session stores' contract, over real connections: what back-channel logout and
//! the cross-instance refresh lock rely on. `save_new` lets exactly one of many racing
//! callers win, `save_existing` never brings back a deleted entry, and a tag finds the
//! sessions filed under it.

use std::time::Duration;

use oauth2::session::{PostgresStore, SessionStore};
use oauth2_tests::services;

/// Keys of this run only (Redis and PostgreSQL outlive it).
fn unique(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), oauth2_tests::nanos())
}

#[tokio::test]
async fn of_many_racing_save_new_calls_exactly_one_wins() {
    for (name, store) in
        services::session_stores("of_many_racing_save_new_calls_exactly_one_wins").await
    {
        let key = unique("jti");
        let racers = (0..32).map(|i| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                store
                    .save_new(&key, &i.to_string(), Duration::from_secs(60))
                    .await
                    .unwrap()
            })
        });
        let won = futures_util::future::join_all(racers)
            .await
            .into_iter()
            .filter(|r| *r.as_ref().unwrap())
            .count();
        assert_eq!(won, 1, "{name}");
        assert!(
            !store
                .save_new(&key, "late", Duration::from_secs(60))
                .await
                .unwrap(),
            "{name}"
        );
        store.delete(&key).await.unwrap();
        assert!(
            store
                .save_new(&key, "again", Duration::from_secs(60))
                .await
                .unwrap(),
            "{name}: free again once deleted"
        );
    }
}

#[tokio::test]
async fn save_existing_replaces_a_live_entry_and_never_brings_back_a_deleted_one() {
    let test = "save_existing_replaces_a_live_entry_and_never_brings_back_a_deleted_one";
    for (name, store) in services::session_stores(test).await {
        let key = unique("session");
        let ttl = Duration::from_secs(60);
        assert!(
            !store.save_existing(&key, "a", ttl).await.unwrap(),
            "{name}"
        );
        assert_eq!(store.load(&key).await.unwrap(), None, "{name}: not created");
        store.save(&key, "a", ttl).await.unwrap();
        assert!(store.save_existing(&key, "b", ttl).await.unwrap(), "{name}");
        assert_eq!(
            store.load(&key).await.unwrap().as_deref(),
            Some("b"),
            "{name}"
        );
        store.delete(&key).await.unwrap();
        assert!(
            !store.save_existing(&key, "c", ttl).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            store.load(&key).await.unwrap(),
            None,
            "{name}: stays deleted"
        );
        // An expired entry counts as gone. (The sleep only has to outlast the TTL, so a
        // slow machine cannot make this fail.)
        store
            .save(&key, "d", Duration::from_millis(200))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(
            !store.save_existing(&key, "e", ttl).await.unwrap(),
            "{name}"
        );
        assert_eq!(store.load(&key).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn save_new_wins_again_once_the_entry_has_expired() {
    for (name, store) in
        services::session_stores("save_new_wins_again_once_the_entry_has_expired").await
    {
        let key = unique("lock");
        // Long enough that the second call comes before the first entry expires however
        // busy the machine is (two store round trips), short enough to wait out.
        let ttl = Duration::from_millis(1500);
        assert!(store.save_new(&key, "a", ttl).await.unwrap(), "{name}");
        assert!(!store.save_new(&key, "b", ttl).await.unwrap(), "{name}");
        tokio::time::sleep(ttl + Duration::from_millis(500)).await;
        assert!(store.save_new(&key, "c", ttl).await.unwrap(), "{name}");
        assert_eq!(store.load(&key).await.unwrap().as_deref(), Some("c"));
    }
}

#[tokio::test]
async fn delete_tagged_ends_every_session_of_its_tag_and_no_other() {
    for (name, store) in
        services::session_stores("delete_tagged_ends_every_session_of_its_tag_and_no_other").await
    {
        assert!(store.supports_tags(), "{name}");
        let ttl = Duration::from_secs(60);
        let (a, b, c) = (unique("a"), unique("b"), unique("c"));
        let (sid, sub) = (unique("sid"), unique("sub"));
        for key in [&a, &b, &c] {
            store.save(key, "{}", ttl).await.unwrap();
        }
        store
            .tag(&a, &[sid.clone(), sub.clone()], ttl)
            .await
            .unwrap();
        store
            .tag(&b, std::slice::from_ref(&sub), ttl)
            .await
            .unwrap();

        assert_eq!(store.delete_tagged(&sid).await.unwrap(), 1, "{name}");
        assert!(store.load(&a).await.unwrap().is_none(), "{name}");
        assert!(store.load(&b).await.unwrap().is_some(), "{name}");

        assert_eq!(store.delete_tagged(&sub).await.unwrap(), 2, "{name}");
        assert!(store.load(&b).await.unwrap().is_none(), "{name}");
        assert!(store.load(&c).await.unwrap().is_some(), "{name}: untagged");
        assert_eq!(
            store.delete_tagged(&sub).await.unwrap(),
            0,
            "{name}: the tag went with its sessions"
        );
        store.delete(&c).await.unwrap();
    }
}

/// `psql` on the test database, for what the store does not do itself.
fn psql(sql: &str) {
    let status = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-qc",
            sql,
        ])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql -c {sql}");
}

#[tokio::test]
async fn postgres_instances_starting_at_once_on_an_empty_database_create_the_tables_once() {
    let test = "postgres_instances_starting_at_once_on_an_empty_database_create_the_tables_once";
    let Some(url) = services::postgres(test) else {
        return;
    };
    if services::program(
        test,
        "psql",
        "install PostgreSQL's client (apt-get install postgresql-client)",
    )
    .is_none()
    {
        return;
    }
    // A schema of its own, as an empty database would be.
    let schema = format!("fresh_{}", oauth2_tests::nanos());
    psql(&format!("CREATE SCHEMA {schema}"));
    let url = format!("{url}?options=-c%20search_path%3D{schema}");
    let starting = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PostgresStore::connect(&url).await })
    });
    let stores: Vec<_> = futures_util::future::join_all(starting)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("every instance starts"))
        .collect();
    stores[0]
        .save("s", "v", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(stores[3].load("s").await.unwrap().as_deref(), Some("v"));
    // An instance started later runs no DDL: the tables are there.
    let later = PostgresStore::connect(&url).await.unwrap();
    assert_eq!(later.load("s").await.unwrap().as_deref(), Some("v"));
    psql(&format!("DROP SCHEMA {schema} CASCADE"));
}
