//! Browser test of restore points: save one, change the scene, preview the difference,
//! restore it (both browsers follow), and undo the restore (the change comes back).

use tests::browser::*;

use super::editing::{add_box, pair};
use super::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_points_preview_restore_and_undo() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "points").await;
        add_box(&a).await;
        add_box(&a).await;
        b.wait_nodes(2).await;

        js(
            &a,
            "const e = document.getElementById('restore-name'); e.value = 'two boxes'; \
             e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
            vec![],
        )
        .await;
        click(&a, "#restore-create").await;
        wait_js(&a, "the new point listed", "return document.querySelectorAll('#restore-list li').length === 1 && \
            document.querySelector('#restore-list .restore-label').textContent === 'two boxes';", vec![]).await;
        // B lists it after a refresh.
        click(&b, "#restore-refresh").await;
        wait_js(&b, "the point listed for B", "return document.querySelectorAll('#restore-list li').length === 1;", vec![]).await;

        // Change the scene: a third box, and the first renamed.
        let third = add_box(&a).await;
        let first = state(&a).await.ids[0].clone();
        click_row(&a, &first).await;
        commit_field(&a, "prop-name", "Renamed").await;
        b.wait_nodes(3).await;
        assert_ne!(first, third);

        click(&a, "#restore-list li .restore-preview").await;
        wait_js(
            &a,
            "the preview: one node removed, one changed",
            "const d = document.getElementById('restore-diff'); return !!d && d.dataset.added === '0' && \
             d.dataset.removed === '1' && d.dataset.changed === '1';",
            vec![],
        )
        .await;

        click(&a, "#restore-list li .restore-apply").await;
        for page in [&a, &b] {
            let shown = page.wait_nodes(2).await;
            assert!(shown.list.iter().all(|(name, _)| name != "Renamed"), "{}: the rename is undone: {:?}", page.name, shown.list);
        }

        // The restore is A's own edit: undo brings the change back, for everyone.
        click(&a, "#undo").await;
        for page in [&a, &b] {
            let shown = page.wait_nodes(3).await;
            assert!(shown.list.iter().any(|(name, _)| name == "Renamed"), "{}: {:?}", page.name, shown.list);
        }
    })
    .await;
}
