using System.Diagnostics;
using System.Text;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.TestSupport;

namespace PowerService.Storage.Tests;

/// <summary>The behaviour every storage provider must show. Each provider runs these tests through a small subclass
/// that says how to open it on a fresh database and how to take its store down.</summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly List<IStorageProvider> _opened = [];

    protected ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.FromHours(8)));

    /// <summary>A new provider instance on this test's database: every call opens the same database.</summary>
    protected abstract IStorageProvider CreateProvider();

    /// <summary>The versions recorded in schema_migrations, read straight from the database.</summary>
    protected abstract Task<IReadOnlyList<int>> ReadAppliedMigrationsAsync();

    /// <summary>An initialized provider on a store this test may take down, and how its errors must name that store.</summary>
    protected abstract Task<(IStorageProvider Storage, string Location)> OpenOutageStoreAsync();

    protected abstract Task TakeStoreDownAsync();

    protected abstract Task BringStoreBackAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var storage in _opened)
        {
            await storage.DisposeAsync();
        }
    }

    // ---- schema ----

    [Fact]
    public async Task Initializing_twice_and_reopening_the_database_apply_each_migration_once_and_keep_the_data()
    {
        var storage = await OpenAsync();
        await storage.InitializeAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("kept"), 0, Bytes("state"))]);
        var applied = await ReadAppliedMigrationsAsync();
        await storage.DisposeAsync();

        var reopened = await OpenAsync();
        await reopened.InitializeAsync();

        Assert.NotEmpty(applied);
        Assert.Equal(Enumerable.Range(1, applied.Count), applied);
        Assert.Equal(applied, await ReadAppliedMigrationsAsync());
        Assert.Equal(new StoredState(1, Bytes("state")), await reopened.ReadStateAsync(Grain("kept")), StoredStateComparer.Instance);
    }

    // ---- grain state ----

    [Fact]
    public async Task A_missing_grain_reads_as_null()
    {
        var storage = await OpenAsync();

        Assert.Null(await storage.ReadStateAsync(Grain("never-written")));
    }

    [Fact]
    public async Task A_batch_read_answers_each_grain_in_order_with_null_for_the_missing()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("a"), 0, Bytes("A")), new StateWrite(Grain("c"), 0, Bytes("C"))]);
        await storage.WriteStatesAsync([new StateWrite(Grain("c"), 1, Bytes("C2"))]);

        var states = await storage.ReadStatesAsync([Grain("c"), Grain("missing"), Grain("a"), Grain("c"), new GrainId("Meter", "a")]);

        Assert.Equal(5, states.Count);
        Assert.Equal(new StoredState(2, Bytes("C2")), states[0], StoredStateComparer.Instance);
        Assert.Null(states[1]);
        Assert.Equal(new StoredState(1, Bytes("A")), states[2], StoredStateComparer.Instance);
        Assert.Equal(new StoredState(2, Bytes("C2")), states[3], StoredStateComparer.Instance);
        Assert.Null(states[4]); // same key, other grain type
        Assert.Empty(await storage.ReadStatesAsync([]));
    }

    [Fact]
    public async Task A_first_write_stores_version_1_and_reads_back()
    {
        var storage = await OpenAsync();

        var outcomes = await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("""{"status":"Reported"}"""))]);

        Assert.Equal([StateWriteOutcome.Success(1)], outcomes);
        Assert.Equal(new StoredState(1, Bytes("""{"status":"Reported"}""")), await storage.ReadStateAsync(Grain("order-1")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task Each_write_with_the_current_version_increments_it()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("v1"))]);

        var second = await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 1, Bytes("v2"))]);
        var third = await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 2, Bytes("v3"))]);

        Assert.Equal([StateWriteOutcome.Success(2)], second);
        Assert.Equal([StateWriteOutcome.Success(3)], third);
        Assert.Equal(new StoredState(3, Bytes("v3")), await storage.ReadStateAsync(Grain("order-1")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task A_stale_version_conflicts_and_never_overwrites()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("v1"))]);
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 1, Bytes("v2"))]);

        var stale = await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 1, Bytes("stale writer"))]);

        Assert.Equal([StateWriteOutcome.Conflict(2)], stale);
        Assert.Equal(new StoredState(2, Bytes("v2")), await storage.ReadStateAsync(Grain("order-1")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task Inserting_when_a_row_exists_conflicts_with_its_current_version()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("v1"))]);
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 1, Bytes("v2"))]);

        var insert = await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("second activation"))]);

        Assert.Equal([StateWriteOutcome.Conflict(2)], insert);
        Assert.Equal(new StoredState(2, Bytes("v2")), await storage.ReadStateAsync(Grain("order-1")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task Updating_a_missing_row_conflicts_with_version_0_and_creates_nothing()
    {
        var storage = await OpenAsync();

        var update = await storage.WriteStatesAsync([new StateWrite(Grain("ghost"), 3, Bytes("x"))]);

        Assert.Equal([StateWriteOutcome.Conflict(0)], update);
        Assert.Null(await storage.ReadStateAsync(Grain("ghost")));
    }

    [Fact]
    public async Task A_delete_with_the_current_version_removes_the_row_and_a_stale_delete_changes_nothing()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("closed"), 0, Bytes("v1")), new StateWrite(Grain("open"), 0, Bytes("v1"))]);
        await storage.WriteStatesAsync([new StateWrite(Grain("open"), 1, Bytes("v2"))]);

        var outcomes = await storage.WriteStatesAsync([new StateWrite(Grain("closed"), 1, null), new StateWrite(Grain("open"), 1, null)]);

        Assert.Equal([StateWriteOutcome.Success(0), StateWriteOutcome.Conflict(2)], outcomes);
        Assert.Null(await storage.ReadStateAsync(Grain("closed")));
        Assert.Equal(new StoredState(2, Bytes("v2")), await storage.ReadStateAsync(Grain("open")), StoredStateComparer.Instance);
        // A deleted grain starts over from version 0.
        Assert.Equal([StateWriteOutcome.Success(1)], await storage.WriteStatesAsync([new StateWrite(Grain("closed"), 0, Bytes("again"))]));
    }

    [Fact]
    public async Task Deleting_with_version_0_succeeds_only_when_no_row_exists()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("exists"), 0, Bytes("v1"))]);

        var outcomes = await storage.WriteStatesAsync([new StateWrite(Grain("missing"), 0, null), new StateWrite(Grain("exists"), 0, null)]);

        Assert.Equal([StateWriteOutcome.Success(0), StateWriteOutcome.Conflict(1)], outcomes);
        Assert.Equal(new StoredState(1, Bytes("v1")), await storage.ReadStateAsync(Grain("exists")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task A_mixed_batch_commits_only_the_items_that_apply()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync(
        [
            new StateWrite(Grain("stale"), 0, Bytes("stale v1")),
            new StateWrite(Grain("taken"), 0, Bytes("taken v1")),
            new StateWrite(Grain("current"), 0, Bytes("current v1")),
            new StateWrite(Grain("doomed"), 0, Bytes("doomed v1")),
        ]);
        await storage.WriteStatesAsync([new StateWrite(Grain("stale"), 1, Bytes("stale v2"))]);

        var outcomes = await storage.WriteStatesAsync(
        [
            new StateWrite(Grain("new"), 0, Bytes("new v1")),
            new StateWrite(Grain("stale"), 1, Bytes("lost")),
            new StateWrite(Grain("taken"), 0, Bytes("lost")),
            new StateWrite(Grain("current"), 1, Bytes("current v2")),
            new StateWrite(Grain("doomed"), 1, null),
            new StateWrite(Grain("nowhere"), 5, Bytes("lost")),
        ]);

        Assert.Equal(
            [
                StateWriteOutcome.Success(1), StateWriteOutcome.Conflict(2), StateWriteOutcome.Conflict(1),
                StateWriteOutcome.Success(2), StateWriteOutcome.Success(0), StateWriteOutcome.Conflict(0),
            ],
            outcomes);
        Assert.Equal(new StoredState(1, Bytes("new v1")), await storage.ReadStateAsync(Grain("new")), StoredStateComparer.Instance);
        Assert.Equal(new StoredState(2, Bytes("stale v2")), await storage.ReadStateAsync(Grain("stale")), StoredStateComparer.Instance);
        Assert.Equal(new StoredState(1, Bytes("taken v1")), await storage.ReadStateAsync(Grain("taken")), StoredStateComparer.Instance);
        Assert.Equal(new StoredState(2, Bytes("current v2")), await storage.ReadStateAsync(Grain("current")), StoredStateComparer.Instance);
        Assert.Null(await storage.ReadStateAsync(Grain("doomed")));
        Assert.Null(await storage.ReadStateAsync(Grain("nowhere")));
    }

    [Fact]
    public async Task Writes_to_one_grain_within_a_batch_apply_in_order()
    {
        var storage = await OpenAsync();

        var outcomes = await storage.WriteStatesAsync(
        [
            new StateWrite(Grain("twice"), 0, Bytes("v1")),
            new StateWrite(Grain("other"), 0, Bytes("o1")),
            new StateWrite(Grain("twice"), 1, Bytes("v2")),
            new StateWrite(Grain("twice"), 1, Bytes("stale")),
        ]);

        Assert.Equal([StateWriteOutcome.Success(1), StateWriteOutcome.Success(1), StateWriteOutcome.Success(2), StateWriteOutcome.Conflict(2)], outcomes);
        Assert.Equal(new StoredState(2, Bytes("v2")), await storage.ReadStateAsync(Grain("twice")), StoredStateComparer.Instance);
    }

    [Fact]
    public async Task A_1_KB_payload_and_an_empty_payload_round_trip_byte_for_byte()
    {
        var storage = await OpenAsync();
        var kilobyte = Enumerable.Range(0, 1024).Select(i => (byte)(i * 37 % 256)).ToArray();

        await storage.WriteStatesAsync([new StateWrite(Grain("large"), 0, kilobyte), new StateWrite(Grain("empty"), 0, [])]);

        Assert.Equal(kilobyte, (await storage.ReadStateAsync(Grain("large")))!.Payload);
        var empty = await storage.ReadStateAsync(Grain("empty"));
        Assert.NotNull(empty);
        Assert.Equal(1, empty.Version);
        Assert.Empty(empty.Payload);
    }

    [Fact]
    public async Task State_survives_closing_the_provider_and_opening_a_new_one()
    {
        var storage = await OpenAsync();
        await storage.WriteStatesAsync([new StateWrite(Grain("durable"), 0, Bytes("v1"))]);
        await storage.WriteStatesAsync([new StateWrite(Grain("durable"), 1, Bytes("v2"))]);
        await storage.DisposeAsync();

        var reopened = await OpenAsync();

        Assert.Equal(new StoredState(2, Bytes("v2")), await reopened.ReadStateAsync(Grain("durable")), StoredStateComparer.Instance);
        Assert.Equal([StateWriteOutcome.Success(3)], await reopened.WriteStatesAsync([new StateWrite(Grain("durable"), 2, Bytes("v3"))]));
    }

    [Fact]
    public async Task A_batch_of_500_inserts_then_500_updates_applies_every_item()
    {
        var storage = await OpenAsync();
        var grains = Enumerable.Range(0, 500).Select(i => Grain($"bulk-{i}")).ToList();

        var inserted = await storage.WriteStatesAsync([.. grains.Select(g => new StateWrite(g, 0, Bytes($"{g.Key} v1")))]);
        var updated = await storage.WriteStatesAsync([.. grains.Select(g => new StateWrite(g, 1, Bytes($"{g.Key} v2")))]);

        Assert.All(inserted, o => Assert.Equal(StateWriteOutcome.Success(1), o));
        Assert.All(updated, o => Assert.Equal(StateWriteOutcome.Success(2), o));
        foreach (var grain in new[] { grains[0], grains[250], grains[499] })
        {
            Assert.Equal(new StoredState(2, Bytes($"{grain.Key} v2")), await storage.ReadStateAsync(grain), StoredStateComparer.Instance);
        }
    }

    [Fact]
    public async Task A_negative_expected_version_is_rejected()
    {
        var storage = await OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteStatesAsync([new StateWrite(Grain("bad"), -1, Bytes("x"))]));
        Assert.Null(await storage.ReadStateAsync(Grain("bad")));
    }

    // ---- reminders ----

    [Fact]
    public async Task Reminders_are_upserted_replaced_and_read_per_grain()
    {
        var storage = await OpenAsync();
        var order = Grain("order-1");
        await storage.UpsertRemindersAsync(
        [
            new ReminderRecord(order, "sla-arrival", 1_000, 0, 7),
            new ReminderRecord(order, "callback", 5_000, 60_000, 7),
            new ReminderRecord(Grain("order-2"), "sla-arrival", 2_000, 0, 9),
        ]);

        await storage.UpsertRemindersAsync([new ReminderRecord(order, "sla-arrival", 1_500, 30_000, 8)]);

        Assert.Equal(
            [new ReminderRecord(order, "callback", 5_000, 60_000, 7), new ReminderRecord(order, "sla-arrival", 1_500, 30_000, 8)],
            await storage.ReadRemindersAsync(order));
        Assert.Equal([new ReminderRecord(Grain("order-2"), "sla-arrival", 2_000, 0, 9)], await storage.ReadRemindersAsync(Grain("order-2")));
        Assert.Empty(await storage.ReadRemindersAsync(Grain("no-reminders")));
    }

    [Fact]
    public async Task The_last_of_two_upserts_for_one_reminder_in_a_batch_wins()
    {
        var storage = await OpenAsync();

        await storage.UpsertRemindersAsync(
        [
            new ReminderRecord(Grain("order-1"), "sla", 1_000, 0, 1),
            new ReminderRecord(Grain("order-1"), "sla", 2_000, 500, 2),
        ]);

        Assert.Equal([new ReminderRecord(Grain("order-1"), "sla", 2_000, 500, 2)], await storage.ReadRemindersAsync(Grain("order-1")));
    }

    [Fact]
    public async Task Deleting_reminders_removes_only_those_named_and_ignores_missing_ones()
    {
        var storage = await OpenAsync();
        await storage.UpsertRemindersAsync(
        [
            new ReminderRecord(Grain("order-1"), "a", 1_000, 0, 1),
            new ReminderRecord(Grain("order-1"), "b", 1_000, 0, 1),
            new ReminderRecord(Grain("order-2"), "a", 1_000, 0, 2),
        ]);

        await storage.DeleteRemindersAsync([new ReminderKey(Grain("order-1"), "a"), new ReminderKey(Grain("order-3"), "missing")]);

        Assert.Equal([new ReminderRecord(Grain("order-1"), "b", 1_000, 0, 1)], await storage.ReadRemindersAsync(Grain("order-1")));
        Assert.Equal([new ReminderRecord(Grain("order-2"), "a", 1_000, 0, 2)], await storage.ReadRemindersAsync(Grain("order-2")));
        Assert.Equal(2, await storage.CountRemindersAsync([1, 2]));
    }

    [Fact]
    public async Task A_state_write_sets_and_removes_its_grains_reminders_in_the_same_transaction()
    {
        var storage = await OpenAsync();
        var order = Grain("order-1");
        var sla = new ReminderRecord(order, "sla", 1_000, 0, 3);

        var created = await storage.WriteStatesAsync([new StateWrite(order, 0, Bytes("open"), Reminders: [ReminderWrite.Set(sla)])]);
        Assert.True(created[0].Applied);
        Assert.Equal([sla], await storage.ReadRemindersAsync(order));

        var closed = await storage.WriteStatesAsync([new StateWrite(order, 1, Bytes("closed"), Reminders: [ReminderWrite.Remove(sla.Key)])]);
        Assert.True(closed[0].Applied);
        Assert.Empty(await storage.ReadRemindersAsync(order));
        Assert.Equal(2, (await storage.ReadStateAsync(order))!.Version);
    }

    [Fact]
    public async Task A_conflicting_state_write_changes_none_of_its_reminders_and_the_others_in_the_batch_apply()
    {
        var storage = await OpenAsync();
        var kept = new ReminderRecord(Grain("order-1"), "sla", 1_000, 0, 1);
        await storage.UpsertRemindersAsync([kept]);
        await storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("v1"))]);
        var other = new ReminderRecord(Grain("order-2"), "sla", 2_000, 0, 2);

        var outcomes = await storage.WriteStatesAsync(
        [
            new StateWrite(Grain("order-1"), 7, Bytes("stale"), Reminders: [ReminderWrite.Remove(kept.Key), ReminderWrite.Set(kept with { Name = "callback" })]),
            new StateWrite(Grain("order-2"), 0, Bytes("new"), Reminders: [ReminderWrite.Set(other)]),
        ]);

        Assert.False(outcomes[0].Applied);
        Assert.True(outcomes[1].Applied);
        Assert.Equal([kept], await storage.ReadRemindersAsync(Grain("order-1")));
        Assert.Equal([other], await storage.ReadRemindersAsync(Grain("order-2")));
    }

    [Fact]
    public async Task Reminder_changes_of_one_grains_writes_in_a_batch_take_effect_in_batch_order()
    {
        var storage = await OpenAsync();
        var order = Grain("order-1");
        var first = new ReminderRecord(order, "sla", 1_000, 0, 1);

        await storage.WriteStatesAsync(
        [
            new StateWrite(order, 0, Bytes("v1"), Reminders: [ReminderWrite.Set(first), ReminderWrite.Set(first with { Name = "callback" })]),
            new StateWrite(order, 1, Bytes("v2"), Reminders: [ReminderWrite.Remove(first.Key)]),
            new StateWrite(order, 2, Bytes("v3"), Reminders: [ReminderWrite.Set(first with { DueAtMs = 3_000 }), ReminderWrite.Remove(new ReminderKey(order, "callback"))]),
        ]);

        Assert.Equal([first with { DueAtMs = 3_000 }], await storage.ReadRemindersAsync(order));
        Assert.Equal(3, (await storage.ReadStateAsync(order))!.Version);
    }

    [Fact]
    public async Task A_state_write_that_changes_another_grains_reminder_is_refused_and_writes_nothing()
    {
        var storage = await OpenAsync();
        var foreign = new ReminderRecord(Grain("order-2"), "sla", 1_000, 0, 1);

        await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteStatesAsync([new StateWrite(Grain("order-1"), 0, Bytes("x"), Reminders: [ReminderWrite.Set(foreign)])]));

        Assert.Null(await storage.ReadStateAsync(Grain("order-1")));
        Assert.Empty(await storage.ReadRemindersAsync(Grain("order-2")));
    }

    [Fact]
    public async Task Due_reminders_are_read_by_partition_within_a_half_open_time_range_in_due_order()
    {
        var storage = await OpenAsync();
        await storage.UpsertRemindersAsync(
        [
            new ReminderRecord(Grain("late"), "r", 2_000, 0, 1),
            new ReminderRecord(Grain("at-start"), "r", 1_000, 0, 1),
            new ReminderRecord(Grain("middle"), "r", 1_500, 0, 2),
            new ReminderRecord(Grain("early"), "r", 999, 0, 1),
            new ReminderRecord(Grain("other-partition"), "r", 1_200, 0, 3),
        ]);

        var due = await storage.ReadDueRemindersAsync([1, 2], 1_000, 2_000);

        Assert.Equal([Grain("at-start"), Grain("middle")], due.Select(r => r.Grain));
        Assert.Equal([new ReminderRecord(Grain("other-partition"), "r", 1_200, 0, 3)], await storage.ReadDueRemindersAsync([3], 0, 10_000));
        Assert.Empty(await storage.ReadDueRemindersAsync([4], 0, 10_000));
        Assert.Empty(await storage.ReadDueRemindersAsync([], 0, 10_000));
    }

    [Fact]
    public async Task Reminders_are_counted_per_set_of_partitions()
    {
        var storage = await OpenAsync();
        await storage.UpsertRemindersAsync(
        [
            .. Enumerable.Range(0, 5).Select(i => new ReminderRecord(Grain($"p1-{i}"), "r", 1_000, 0, 1)),
            .. Enumerable.Range(0, 3).Select(i => new ReminderRecord(Grain($"p2-{i}"), "r", 1_000, 0, 2)),
            new ReminderRecord(Grain("p3"), "r", 1_000, 0, 3),
        ]);

        Assert.Equal(5, await storage.CountRemindersAsync([1]));
        Assert.Equal(4, await storage.CountRemindersAsync([2, 3]));
        Assert.Equal(9, await storage.CountRemindersAsync([1, 2, 3, 4]));
        Assert.Equal(0, await storage.CountRemindersAsync([4]));
    }

    // ---- domain event journal ----

    [Fact]
    public async Task Appended_events_get_increasing_sequences_in_order_and_round_trip()
    {
        var storage = await OpenAsync();
        var at = new DateTimeOffset(2026, 11, 20, 9, 30, 15, 123, TimeSpan.FromHours(8));
        var payload = """{"note":"变压器冒烟","crew":null,"eta":[1,2]}""";

        var first = await storage.AppendEventsAsync(
        [
            new JournalEvent("order/1", "Reported", at, "hotline:95598", "Haidian/T-7", payload),
            new JournalEvent("order/2", "Reported", at.AddSeconds(1), null, null, "{}"),
            new JournalEvent("order/1", "Dispatched", at.AddSeconds(2), "dispatcher:li", null, """{"crew":"C-12"}"""),
        ]);
        var second = await storage.AppendEventsAsync([new JournalEvent("order/1", "Arrived", at.AddMinutes(30), "crew:C-12", "Haidian/T-7", "{}")]);

        Assert.Equal(3, first.Count);
        Assert.True(first[0] < first[1] && first[1] < first[2], $"sequences {string.Join(", ", first)} are not increasing");
        Assert.True(second[0] > first[2]);
        var stream = await storage.ReadStreamAsync("order/1", 0, 100);
        Assert.Equal([first[0], first[2], second[0]], stream.Select(e => e.Sequence));
        // DateTimeOffset equality compares instants, so the stored UTC time equals the +08:00 original.
        Assert.Equal(new StoredEvent(first[0], "order/1", "Reported", at, "hotline:95598", "Haidian/T-7", payload), stream[0]);
        Assert.Equal(new StoredEvent(first[1], "order/2", "Reported", at.AddSeconds(1), null, null, "{}"), Assert.Single(await storage.ReadStreamAsync("order/2", 0, 100)));
    }

    [Fact]
    public async Task Events_written_with_state_are_journaled_only_when_the_state_write_applies()
    {
        var storage = await OpenAsync();
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.FromHours(8));
        var order = new GrainId("WorkOrder", "WO-1");
        var other = new GrainId("WorkOrder", "WO-2");
        await storage.WriteStatesAsync([new StateWrite(order, 0, [1], [new JournalEvent("WO-1", "Created", at, "hotline", null, "{}")])]);

        var outcomes = await storage.WriteStatesAsync(
        [
            new StateWrite(order, 7, [2], [new JournalEvent("WO-1", "Dispatched", at, "dispatcher", null, "{}")]),
            new StateWrite(other, 0, [3], [new JournalEvent("WO-2", "Created", at, "app", null, "{}"), new JournalEvent("WO-2", "Escalated", at, null, null, "{}")]),
        ]);

        Assert.False(outcomes[0].Applied);
        Assert.True(outcomes[1].Applied);
        Assert.Equal(["Created"], (await storage.ReadStreamAsync("WO-1", 0, 10)).Select(e => e.EventType));
        Assert.Equal(["Created", "Escalated"], (await storage.ReadStreamAsync("WO-2", 0, 10)).Select(e => e.EventType));
        Assert.Equal(1, (await storage.ReadStateAsync(order))!.Version);
    }

    [Fact]
    public async Task Streams_and_the_whole_journal_page_by_sequence()
    {
        var storage = await OpenAsync();
        var at = new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.Zero);
        var sequences = await storage.AppendEventsAsync(
            [.. Enumerable.Range(0, 7).Select(i => new JournalEvent(i % 2 == 0 ? "even" : "odd", "Tick", at.AddSeconds(i), null, null, $$"""{"i":{{i}}}"""))]);

        var evenFirstPage = await storage.ReadStreamAsync("even", 0, 2);
        var evenSecondPage = await storage.ReadStreamAsync("even", evenFirstPage[^1].Sequence, 2);
        var allFirstPage = await storage.ReadAllEventsAsync(0, 5);
        var allSecondPage = await storage.ReadAllEventsAsync(allFirstPage[^1].Sequence, 5);

        Assert.Equal([sequences[0], sequences[2]], evenFirstPage.Select(e => e.Sequence));
        Assert.Equal([sequences[4], sequences[6]], evenSecondPage.Select(e => e.Sequence));
        Assert.Empty(await storage.ReadStreamAsync("even", sequences[6], 10));
        Assert.Equal(sequences, [.. allFirstPage.Concat(allSecondPage).Select(e => e.Sequence)]);
        Assert.Equal(["""{"i":5}""", """{"i":6}"""], allSecondPage.Select(e => e.PayloadJson));
        Assert.Empty(await storage.ReadAllEventsAsync(sequences[^1], 10));
        Assert.Equal(sequences[^1], await storage.LastEventSequenceAsync());
    }

    [Fact]
    public async Task An_empty_journal_has_last_sequence_0()
    {
        var storage = await OpenAsync();

        Assert.Equal(0, await storage.LastEventSequenceAsync());
    }

    // ---- write-ahead logs ----

    [Fact]
    public async Task Log_records_survive_a_reopen_in_order_each_log_apart_and_page_by_sequence()
    {
        var storage = await OpenAsync();
        var first = await storage.AppendLogAsync("ami", [1, 2, 3]);
        var other = await storage.AppendLogAsync("other", [9]);
        var second = await storage.AppendLogAsync("ami", []);
        var third = await storage.AppendLogAsync("ami", [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)]);
        await storage.DisposeAsync();

        var reopened = await OpenAsync();
        var page = await reopened.ReadLogAsync("ami", 0, 2);
        var rest = await reopened.ReadLogAsync("ami", page[^1].Sequence, 10);

        Assert.True(first < other && other < second && second < third, $"sequences {first}, {other}, {second}, {third} are not increasing");
        Assert.Equal([first, second], page.Select(r => r.Sequence));
        Assert.Equal([1, 2, 3], page[0].Payload);
        Assert.Empty(page[1].Payload);
        Assert.Equal(third, Assert.Single(rest).Sequence);
        Assert.Equal(Enumerable.Range(0, 100_000).Select(i => (byte)i), rest[0].Payload);
        Assert.Equal([9], Assert.Single(await reopened.ReadLogAsync("other", 0, 10)).Payload);
        Assert.Empty(await reopened.ReadLogAsync("nobody", 0, 10));
    }

    [Fact]
    public async Task Truncating_a_log_deletes_its_records_through_the_sequence_only()
    {
        var storage = await OpenAsync();
        var sequences = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            sequences.Add(await storage.AppendLogAsync("ami", [(byte)i]));
        }
        var other = await storage.AppendLogAsync("other", [9]);

        var deleted = await storage.TruncateLogAsync("ami", sequences[1]);
        var again = await storage.TruncateLogAsync("ami", sequences[1]);

        Assert.Equal(2, deleted);
        Assert.Equal(0, again);
        Assert.Equal(sequences[2..], (await storage.ReadLogAsync("ami", 0, 10)).Select(r => r.Sequence));
        Assert.Equal(other, Assert.Single(await storage.ReadLogAsync("other", 0, 10)).Sequence);
        Assert.True(await storage.AppendLogAsync("ami", [4]) > other, "a truncated log reuses no sequence");
    }

    [Fact]
    public async Task A_log_without_a_name_is_refused()
    {
        var storage = await OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => storage.AppendLogAsync(" ", [1]));
        await Assert.ThrowsAsync<ArgumentException>(() => storage.ReadLogAsync(new string('x', 65), 0, 1));
    }

    // ---- notification outbox ----

    [Fact]
    public async Task Enqueue_skips_messages_whose_deduplication_key_is_already_stored()
    {
        var storage = await OpenAsync();

        var firstAdded = await storage.EnqueueNotificationsAsync([Message("outage-1:13800000001"), Message("outage-1:13800000002", "first")]);
        var secondAdded = await storage.EnqueueNotificationsAsync(
            [Message("outage-1:13800000002", "duplicate"), Message("outage-1:13800000003"), Message("outage-1:13800000003")]);

        Assert.Equal(2, firstAdded);
        Assert.Equal(1, secondAdded);
        var claimed = await storage.ClaimNotificationsAsync(10, Lease);
        Assert.Equal(["outage-1:13800000001", "outage-1:13800000002", "outage-1:13800000003"], claimed.Select(m => m.DeduplicationKey));
        Assert.Equal("""{"text":"first"}""", claimed[1].PayloadJson);
    }

    [Fact]
    public async Task A_claim_leases_messages_oldest_first_until_the_lease_runs_out()
    {
        var storage = await OpenAsync();
        var created = new DateTimeOffset(2026, 11, 20, 7, 59, 0, TimeSpan.FromHours(8));
        await storage.EnqueueNotificationsAsync([Message("a", createdAt: created), Message("b"), Message("c")]);

        var firstClaim = await storage.ClaimNotificationsAsync(2, Lease);
        var secondClaim = await storage.ClaimNotificationsAsync(10, Lease);
        var thirdClaim = await storage.ClaimNotificationsAsync(10, Lease);
        Clock.Advance(Lease - TimeSpan.FromSeconds(1));
        var withinLease = await storage.ClaimNotificationsAsync(10, Lease);
        Clock.Advance(TimeSpan.FromSeconds(2));
        var afterLease = await storage.ClaimNotificationsAsync(10, Lease);

        Assert.Equal(["a", "b"], firstClaim.Select(m => m.DeduplicationKey));
        Assert.Equal(new StoredOutboxMessage(firstClaim[0].Id, "a", "sms", "13800000000", """{"text":"a"}""", created, 1), firstClaim[0]);
        Assert.Equal(["c"], secondClaim.Select(m => m.DeduplicationKey));
        Assert.Empty(thirdClaim);
        Assert.Empty(withinLease);
        Assert.Equal(["a", "b", "c"], afterLease.Select(m => m.DeduplicationKey));
        Assert.All(afterLease, m => Assert.Equal(2, m.Attempts));
    }

    [Fact]
    public async Task Delivered_messages_are_never_claimed_again()
    {
        var storage = await OpenAsync();
        await storage.EnqueueNotificationsAsync([Message("a"), Message("b")]);
        var claimed = await storage.ClaimNotificationsAsync(10, Lease);

        await storage.MarkNotificationsDeliveredAsync([claimed[0].Id]);
        Clock.Advance(Lease * 2);
        var reclaimed = await storage.ClaimNotificationsAsync(10, Lease);
        await storage.MarkNotificationsDeliveredAsync([reclaimed[0].Id, claimed[0].Id]);
        Clock.Advance(Lease * 2);

        Assert.Equal(["b"], reclaimed.Select(m => m.DeduplicationKey));
        Assert.Empty(await storage.ClaimNotificationsAsync(10, Lease));
        Assert.Equal(0, await storage.EnqueueNotificationsAsync([Message("a")]));
    }

    [Fact]
    public async Task Delivered_notifications_older_than_the_retention_are_deleted_oldest_first_and_undelivered_ones_stay()
    {
        var storage = await OpenAsync();
        await storage.EnqueueNotificationsAsync([Message("a"), Message("b"), Message("c"), Message("d")]);
        var claimed = await storage.ClaimNotificationsAsync(3, Lease);
        await storage.MarkNotificationsDeliveredAsync([.. claimed.Take(2).Select(m => m.Id)]);
        Clock.Advance(TimeSpan.FromDays(31));
        await storage.MarkNotificationsDeliveredAsync([claimed[2].Id]); // delivered a month later: kept

        var first = await storage.DeleteDeliveredNotificationsAsync(Clock.GetUtcNow() - TimeSpan.FromDays(30), 1);
        var rest = await storage.DeleteDeliveredNotificationsAsync(Clock.GetUtcNow() - TimeSpan.FromDays(30), 10);

        Assert.Equal((1, 1), (first, rest));
        Assert.Equal(["d"], (await storage.ClaimNotificationsAsync(10, Lease)).Select(m => m.DeduplicationKey));
        Assert.Equal(1, await storage.EnqueueNotificationsAsync([Message("a"), Message("c")])); // a's key went with it
    }

    // ---- catalog ----

    [Fact]
    public async Task A_catalog_import_inserts_then_reimporting_changes_nothing_and_a_changed_entry_is_updated()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("feeder", null, Stream(Entry("F1"), Entry("F2")));
        CatalogEntry[] meters = [Entry("M1", "F1"), Entry("M2", "F1"), Entry("M3", "F2")];

        var first = await storage.ImportCatalogAsync("meter", "feeder", Stream(meters));
        var again = await storage.ImportCatalogAsync("meter", "feeder", Stream(meters));
        var changed = await storage.ImportCatalogAsync("meter", "feeder", Stream(Entry("M1", "F1"), Entry("M2", "F2"), Entry("M3", "F2", "{\"v\":2}"), Entry("M4", "F2")));

        Assert.Equal(new CatalogImportResult(3, 0, 0, []), first with { Orphans = [] });
        Assert.True(first.Applied);
        Assert.Equal((0L, 0L, 3L), (again.Inserted, again.Updated, again.Unchanged));
        Assert.Equal((1L, 2L, 1L), (changed.Inserted, changed.Updated, changed.Unchanged));
        Assert.Equal([Entry("M2", "F2"), Entry("M3", "F2", "{\"v\":2}"), Entry("M4", "F2")], await storage.ReadCatalogChildrenAsync("meter", ["F2"]));
        Assert.Equal(4, await storage.CountCatalogAsync("meter"));
    }

    [Fact]
    public async Task A_catalog_import_with_missing_parents_writes_nothing_and_names_each_orphan()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("area", null, Stream(Entry("A1")));
        await storage.ImportCatalogAsync("meter", "area", Stream(Entry("M1", "A1", "{\"v\":1}")));

        var result = await storage.ImportCatalogAsync("meter", "area",
            Stream(Entry("M1", "A1", "{\"v\":2}"), Entry("M4", "A9"), Entry("M3", "A1"), Entry("M2", "A8")));
        var first = await storage.ImportCatalogAsync("customer", "meter", Stream(Entry("C1", "M1"), Entry("C2", "M7")));

        Assert.False(result.Applied);
        Assert.Equal([new CatalogOrphan("M2", "A8"), new CatalogOrphan("M4", "A9")], result.Orphans);
        Assert.Equal([new CatalogOrphan("C2", "M7")], first.Orphans);
        Assert.Equal(0, await storage.CountCatalogAsync("customer"));
        Assert.Equal(1, await storage.CountCatalogAsync("meter"));
        Assert.Equal([Entry("M1", "A1", "{\"v\":1}")], await storage.ReadCatalogAsync("meter", ["M1"]));
    }

    [Fact]
    public async Task An_exception_from_the_imported_entries_rolls_the_import_back_and_reaches_the_caller()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("feeder", null, Stream(Entry("F1", null, "{\"v\":1}")));

        await Assert.ThrowsAsync<FormatException>(() => storage.ImportCatalogAsync("feeder", null, Failing(Entry("F1", null, "{\"v\":2}"), Entry("F2"))));

        Assert.Equal([Entry("F1", null, "{\"v\":1}"), null], await storage.ReadCatalogAsync("feeder", ["F1", "F2"]));
        var afterwards = await storage.ImportCatalogAsync("feeder", null, Stream(Entry("F2")));
        Assert.Equal(1, afterwards.Inserted);
    }

    [Fact]
    public async Task Catalog_reads_answer_in_order_per_kind_and_children_come_sorted_by_parent_then_key()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("area", null, Stream(Entry("A1"), Entry("A2")));
        await storage.ImportCatalogAsync("meter", "area", Stream(Entry("M3", "A2"), Entry("M1", "A1"), Entry("M2", "A2"), Entry("A1", "A1")));

        var read = await storage.ReadCatalogAsync("meter", ["M2", "missing", "M1", "A2"]);
        var children = await storage.ReadCatalogChildrenAsync("meter", ["A2", "A1", "none"]);

        Assert.Equal([Entry("M2", "A2"), null, Entry("M1", "A1"), null], read);
        Assert.Equal(["A1", "M1", "M2", "M3"], children.Select(c => c.Key));
        Assert.Empty(await storage.ReadCatalogAsync("meter", []));
        Assert.Empty(await storage.ReadCatalogChildrenAsync("meter", []));
        Assert.Equal(0, await storage.CountCatalogAsync("customer"));
        Assert.Equal(new CatalogImportResult(0, 0, 0, []), (await storage.ImportCatalogAsync("customer", "meter", Stream())) with { Orphans = [] });
    }

    [Fact]
    public async Task Catalog_children_are_grouped_by_a_payload_field_with_their_count_and_least_key_and_a_bad_field_name_is_refused()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("area", null, Stream(Entry("A1"), Entry("A2"), Entry("A3")));
        await storage.ImportCatalogAsync("meter", "area", Stream(
            Entry("M5", "A1"), Entry("M2", "A1", "{\"role\":null}"), Entry("M9", "A1", "{\"role\":\"Supply\",\"x\":1}"),
            Entry("M3", "A1", "{\"role\":\"Supply\"}"), Entry("M4", "A2", "{\"other\":{\"role\":\"Supply\"}}"),
            Entry("M1", "A2", "{\"role\":\"Bulk\"}")));

        var groups = await storage.GroupCatalogChildrenAsync("meter", ["A2", "A1", "A3", "none"], "role");

        // Absent and null are one group; a nested "role" is not the top-level field.
        Assert.Equal(
            [
                new CatalogChildGroup("A1", null, 2, "M2"), new CatalogChildGroup("A1", "Supply", 2, "M3"),
                new CatalogChildGroup("A2", null, 1, "M4"), new CatalogChildGroup("A2", "Bulk", 1, "M1"),
            ],
            groups);
        Assert.Empty(await storage.GroupCatalogChildrenAsync("meter", [], "role"));
        await Assert.ThrowsAsync<ArgumentException>(() => storage.GroupCatalogChildrenAsync("meter", ["A1"], "role') OR 1=1 --"));
        await Assert.ThrowsAsync<ArgumentException>(() => storage.GroupCatalogChildrenAsync("meter", ["A1"], "a.b"));
    }

    [Fact]
    public async Task Catalog_links_are_read_a_page_at_a_time_each_key_once_with_its_parent()
    {
        var storage = await OpenAsync();
        await storage.ImportCatalogAsync("area", null, Stream(Entry("A1"), Entry("A2")));
        var meters = Enumerable.Range(1, 25).Select(i => Entry($"M{i:00}", i % 2 == 0 ? "A2" : "A1")).ToArray();
        await storage.ImportCatalogAsync("meter", "area", Stream(meters));

        var seen = new List<CatalogLink>();
        string? after = null;
        var pages = 0;
        while (await storage.ReadCatalogLinksAsync("meter", after, 10) is { Count: > 0 } page)
        {
            seen.AddRange(page);
            after = page[^1].Key;
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(meters.Select(m => new CatalogLink(m.Key, m.ParentKey)).OrderBy(l => l.Key, StringComparer.Ordinal), seen.OrderBy(l => l.Key, StringComparer.Ordinal));
        Assert.Equal([new CatalogLink("A1", null), new CatalogLink("A2", null)], await storage.ReadCatalogLinksAsync("area", null, 10));
        Assert.Empty(await storage.ReadCatalogLinksAsync("customer", null, 10));
    }

    // ---- batches and failures ----

    [Fact]
    public async Task Empty_batches_are_accepted_and_change_nothing()
    {
        var storage = await OpenAsync();

        Assert.Empty(await storage.WriteStatesAsync([]));
        await storage.UpsertRemindersAsync([]);
        await storage.DeleteRemindersAsync([]);
        Assert.Empty(await storage.AppendEventsAsync([]));
        Assert.Equal(0, await storage.EnqueueNotificationsAsync([]));
        await storage.MarkNotificationsDeliveredAsync([]);

        Assert.Empty(await storage.ReadAllEventsAsync(0, 10));
        Assert.Empty(await storage.ClaimNotificationsAsync(10, Lease));
        Assert.Equal(0, await storage.CountRemindersAsync([1, 2, 3]));
    }

    [Fact]
    public async Task A_write_while_the_store_is_down_fails_as_unavailable_writes_nothing_and_the_same_provider_recovers()
    {
        var (storage, location) = await OpenOutageStoreAsync();
        Track(storage);
        await storage.WriteStatesAsync([new StateWrite(Grain("before"), 0, Bytes("v1"))]);

        await TakeStoreDownAsync();
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteStatesAsync(
            [new StateWrite(Grain("lost"), 0, Bytes("lost")), new StateWrite(Grain("before"), 1, Bytes("lost"))]));
        var failedAfter = clock.Elapsed;
        await BringStoreBackAsync();

        Assert.True(failedAfter < TimeSpan.FromSeconds(5), $"the write took {failedAfter} to fail");
        Assert.Contains(location, failure.Message, StringComparison.Ordinal);
        Assert.Null(await storage.ReadStateAsync(Grain("lost")));
        Assert.Equal(new StoredState(1, Bytes("v1")), await storage.ReadStateAsync(Grain("before")), StoredStateComparer.Instance);
        var retry = await storage.WriteStatesAsync([new StateWrite(Grain("lost"), 0, Bytes("v1")), new StateWrite(Grain("before"), 1, Bytes("v2"))]);
        Assert.Equal([StateWriteOutcome.Success(1), StateWriteOutcome.Success(2)], retry);
    }

    // ---- helpers ----

    private async Task<IStorageProvider> OpenAsync()
    {
        var storage = Track(CreateProvider());
        await storage.InitializeAsync();
        return storage;
    }

    protected IStorageProvider Track(IStorageProvider storage)
    {
        _opened.Add(storage);
        return storage;
    }

    private OutboxMessage Message(string key, string? text = null, DateTimeOffset? createdAt = null) =>
        new(key, "sms", "13800000000", $$"""{"text":"{{text ?? key}}"}""", createdAt ?? Clock.GetUtcNow());

    private static CatalogEntry Entry(string key, string? parent = null, string payload = "{}") => new(key, parent, payload);

    private static IAsyncEnumerable<CatalogEntry> Stream(params CatalogEntry[] entries) => entries.ToAsyncEnumerable();

    private static async IAsyncEnumerable<CatalogEntry> Failing(params CatalogEntry[] entries)
    {
        foreach (var entry in entries)
        {
            await Task.Yield();
            yield return entry;
        }
        throw new FormatException("line 3 is not valid");
    }

    protected static GrainId Grain(string key) => new("WorkOrder", key);

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Records compare arrays by reference; stored state is equal when version and bytes are.</summary>
    private sealed class StoredStateComparer : IEqualityComparer<StoredState?>
    {
        public static readonly StoredStateComparer Instance = new();

        public bool Equals(StoredState? x, StoredState? y) =>
            x is null ? y is null : y is not null && x.Version == y.Version && x.Payload.AsSpan().SequenceEqual(y.Payload);

        public int GetHashCode(StoredState? obj) => obj?.Version.GetHashCode() ?? 0;
    }
}
