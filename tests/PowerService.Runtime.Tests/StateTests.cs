using PowerService.Runtime.Storage;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;
using PowerService.Storage.Sqlite;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests;

/// <summary>Persistent state guarantees, run against each store.</summary>
public abstract class StateTests
{
    protected abstract Task<Func<IStorageProvider>> OpenStoreAsync();

    [Fact]
    public async Task State_survives_a_silo_restart()
    {
        var store = await OpenStoreAsync();
        await using (var first = await TestSilo.StartAsync(store()))
        {
            await first.Grain<ICounterGrain>("feeder-7").Add(41);
            await first.Grain<ICounterGrain>("feeder-7").Add(1);
        }

        await using var second = await TestSilo.StartAsync(store());
        Assert.Equal(42, await second.Grain<ICounterGrain>("feeder-7").Get());
    }

    [Fact]
    public async Task Writes_a_grain_starts_without_waiting_for_the_one_before_are_all_stored_in_order_background_ones_too()
    {
        var store = await OpenStoreAsync();
        await using (var first = await TestSilo.StartAsync(store()))
        {
            await first.Grain<ICounterGrain>("meter-batch").AddEachWithoutWaiting([5, 10, 20, 40]);
        }

        await using var second = await TestSilo.StartAsync(store());
        Assert.Equal(75, await second.Grain<ICounterGrain>("meter-batch").Get());
    }

    [Fact]
    public async Task A_grain_deactivates_only_after_the_writes_it_did_not_wait_for_are_stored()
    {
        var store = await OpenStoreAsync();
        await using var silo = await TestSilo.StartAsync(store());
        var counter = silo.Grain<ICounterGrain>("meter-deactivating");
        var first = await counter.ActivationId();

        await counter.AddAndDeactivateWithoutWaiting(7);
        await Eventually.True(async () => await counter.ActivationId() != first, "a new activation took over");

        Assert.Equal(8, await counter.Add(1));
    }

    [Fact]
    public async Task Shutdown_loses_no_acknowledged_write_and_flushes_write_behind_state()
    {
        var store = await OpenStoreAsync();
        await using (var silo = await TestSilo.StartAsync(store()))
        {
            await Task.WhenAll(Enumerable.Range(0, 300).Select(i => silo.Grain<ICounterGrain>($"c{i}").Add(i + 1)));
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i => silo.Grain<IWriteBehindGrain>($"w{i}").Increment()));
            await silo.StopAsync();
        }

        await using var restarted = await TestSilo.StartAsync(store());
        var counters = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => restarted.Grain<ICounterGrain>($"c{i}").Get()));
        var writeBehind = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => restarted.Grain<IWriteBehindGrain>($"w{i}").Value()));
        Assert.Equal(Enumerable.Range(1, 300), counters);
        Assert.All(writeBehind, v => Assert.Equal(1, v));
    }

    [Fact]
    public async Task A_grain_still_busy_when_the_shutdown_timeout_runs_out_is_deactivated_with_a_cancelled_token_after_the_silo_is_gone()
    {
        var store = await OpenStoreAsync();
        var key = $"slow-{Guid.NewGuid():N}";
        Task holding;
        await using (var silo = await TestSilo.StartAsync(store(), o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100)))
        {
            var grain = silo.Grain<ISlowGrain>(key);
            await grain.Ping();
            holding = grain.Hold();
            // Shut down only once the turn runs: a call still queued when the silo stops is not what this is about.
            await Eventually.True(() => TestJournal.For(key).Contains("holding"), "the long turn started");
        }
        // The silo gave up waiting and is gone; the turn ends only now (a fixed sleep raced the store's own shutdown).
        MailboxGrain.GateFor(key).SetResult();
        await holding;

        await Eventually.True(() => TestJournal.For(key).Contains("deactivated:Shutdown:cancelled=True"), $"its deactivation ran, told the silo is gone (journal: {string.Join(", ", TestJournal.For(key))})");
    }

    [Fact]
    public async Task Idle_activations_are_deactivated_and_come_back_with_their_state()
    {
        var store = await OpenStoreAsync();
        await using var silo = await TestSilo.StartAsync(store(), o => o.DefaultIdleTimeout = TimeSpan.FromMilliseconds(200));
        var key = $"idle-{Guid.NewGuid():N}";
        var grain = silo.Grain<ICounterGrain>(key);
        await grain.Add(3);
        var before = await grain.ActivationId();

        await Eventually.True(() => TestJournal.For(key).Contains("deactivated:Idle"), "the idle grain is deactivated");

        Assert.Equal(3, await grain.Get());
        Assert.NotEqual(before, await grain.ActivationId());
    }

    [Fact]
    public async Task Above_the_activation_cap_the_least_recently_used_are_deactivated_and_reactivate_with_state()
    {
        var store = await OpenStoreAsync();
        await using var silo = await TestSilo.StartAsync(store(), o => o.MaxActivations = 5);
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 10; i++)
        {
            await silo.Grain<ICounterGrain>($"{run}-{i}").Add(i);
            await Task.Delay(2); // distinct last-use times
        }

        await Eventually.True(() => silo.Silo.ActivationCount <= 5, "the silo is back under its cap");

        for (var i = 0; i < 5; i++)
        {
            Assert.Contains("deactivated:MemoryPressure", TestJournal.For($"{run}-{i}"));
        }
        Assert.DoesNotContain("deactivated:MemoryPressure", TestJournal.For($"{run}-9"));
        Assert.Equal(2, await silo.Grain<ICounterGrain>($"{run}-2").Get());
    }

    [Fact]
    public async Task A_grain_that_asks_to_deactivate_is_reactivated_on_the_next_call()
    {
        var store = await OpenStoreAsync();
        await using var silo = await TestSilo.StartAsync(store());
        var key = $"req-{Guid.NewGuid():N}";
        var grain = silo.Grain<ICounterGrain>(key);
        await grain.Add(9);
        var before = await grain.ActivationId();

        await grain.Deactivate();
        await Eventually.True(() => TestJournal.For(key).Contains("deactivated:Requested"), "the grain is deactivated");

        Assert.NotEqual(before, await grain.ActivationId());
        Assert.Equal(9, await grain.Get());
    }
}

public sealed class SqliteStateTests : StateTests, IDisposable
{
    private readonly TempSqlite _db = new();

    protected override Task<Func<IStorageProvider>> OpenStoreAsync() => Task.FromResult<Func<IStorageProvider>>(() => _db.NewProvider());

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task A_store_that_is_down_gives_a_clear_error_after_retries_writes_nothing_and_recovers()
    {
        await using var silo = await TestSilo.StartAsync(_db.NewProvider(TimeSpan.FromMilliseconds(100)), o => o.StorageRetryAttempts = 3);
        var grain = silo.Grain<ICounterGrain>("down-1");
        await grain.Add(1);

        await using (var blocker = new Microsoft.Data.Sqlite.SqliteConnection(_db.ConnectionString))
        {
            await blocker.OpenAsync();
            await using (var lockAll = blocker.CreateCommand())
            {
                lockAll.CommandText = "BEGIN EXCLUSIVE";
                await lockAll.ExecuteNonQueryAsync();
            }
            var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Add(10));
            Assert.Contains("3 attempts", error.Message);
            // Readiness reads this: a store that answers reads but refuses writes is not ready.
            Assert.NotNull(silo.Silo.StateWrites.Failing);
            await using var rollback = blocker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Equal(1, await grain.Get());
        Assert.Equal(3, await grain.Add(2));
        Assert.Null(silo.Silo.StateWrites.Failing);
        var stored = await silo.Silo.Storage.ReadStateAsync(new GrainId("CounterGrain", "down-1"));
        Assert.Equal(2, stored!.Version);
    }

    /// <summary>A store file made read-only (a volume remounted read-only, as a full disk does too) is a store that is
    /// unavailable, said as such (503 with Retry-After at the API), not an unexplained error (500).</summary>
    [Fact]
    public async Task A_read_only_store_refuses_writes_as_unavailable_and_still_reads()
    {
        await using (var silo = await TestSilo.StartAsync(_db.NewProvider()))
        {
            await silo.Grain<ICounterGrain>("ro-1").Add(1);
        }
        var readOnly = new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = _db.ConnectionString + ";Mode=ReadOnly" });
        await using var again = await TestSilo.StartAsync(readOnly, o => o.StorageRetryAttempts = 1);

        Assert.Equal(1, await again.Grain<ICounterGrain>("ro-1").Get());
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => again.Grain<ICounterGrain>("ro-1").Add(1));
        Assert.Contains("readonly", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlStateTests(PostgresFixture postgres) : StateTests
{
    protected override Task<Func<IStorageProvider>> OpenStoreAsync() => TestStores.PostgreSqlAsync(postgres, "state");

    // Two silos on one store: PostgreSQL's case (an embedded SQLite store has one silo, which its own tests show).
    [Fact]
    public async Task A_stale_writer_gets_a_clear_conflict_and_never_overwrites()
    {
        var store = await OpenStoreAsync();
        await using var siloA = await TestSilo.StartAsync(store());
        await using var siloB = await TestSilo.StartAsync(store());
        var onA = siloA.Grain<ICounterGrain>("area-3");
        var onB = siloB.Grain<ICounterGrain>("area-3");
        await onA.Get();
        await onB.Get(); // both activations read version 0

        await onA.Add(5);
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => onB.Add(7));

        Assert.Contains("CounterGrain/area-3", error.Message);
        Assert.Equal("1", error.CurrentEtag);
        Assert.Null(error.StoredEtag);
        var stored = await siloA.Silo.Storage.ReadStateAsync(new GrainId("CounterGrain", "area-3"));
        Assert.Equal(1, stored!.Version);
        Assert.Contains("\"Value\":5", System.Text.Encoding.UTF8.GetString(stored.Payload));
    }
}
