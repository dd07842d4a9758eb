using PowerService.Runtime.Storage;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests;

/// <summary>Durable reminders on a manual clock, against each store: no test sleeps for the reminder's due time.</summary>
public abstract class ReminderTests
{
    private static readonly DateTimeOffset Start = new(2026, 9, 5, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private Func<IStorageProvider>? _store;

    /// <summary>A factory for providers over one fresh database; every silo of a test uses the same database.</summary>
    protected abstract Task<Func<IStorageProvider>> OpenStoreAsync();

    private async Task<TestSilo> StartSilo()
    {
        _store ??= await OpenStoreAsync();
        return await TestSilo.StartAsync(_store(), o =>
        {
            o.TimeProvider = _clock;
            o.ReminderHorizon = TimeSpan.FromSeconds(30);
        });
    }

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static IReadOnlyList<string> Ticks(string key) => TestJournal.For(key).Where(e => e.StartsWith("tick:", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_reminder_fires_when_due_and_a_one_shot_reminder_is_then_gone()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IReminderGrain>(key);
        await grain.Schedule("arrival-sla", TimeSpan.FromSeconds(10), TimeSpan.Zero);

        _clock.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(100);
        Assert.Empty(Ticks(key));

        _clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(() => Ticks(key).Count == 1, "the reminder fired");
        Assert.Equal($"tick:arrival-sla:{Ms(Start.AddSeconds(10))}", Ticks(key)[0]);
        await Eventually.True(async () => (await grain.List()).Count == 0, "the one-shot reminder is deleted");
    }

    /// <summary>A one-shot tick its grain failed to handle (the order's write met a store away for 30 s) was deleted all
    /// the same: the offer never lapsed, the SLA breach never came. It is delivered again until the grain handles it, and
    /// only then removed.</summary>
    [Fact]
    public async Task A_one_shot_reminder_its_grain_failed_to_handle_is_delivered_again_and_only_then_removed()
    {
        var key = $"f-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IReminderGrain>(key);
        await grain.Schedule(ReminderGrain.FailsOnce, TimeSpan.FromSeconds(10), TimeSpan.Zero);

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => Ticks(key).Count == 1, "the reminder fired and its grain failed");
        await Task.Delay(200);
        Assert.Single(await grain.List());

        _clock.Advance(TimeSpan.FromMilliseconds(Reminders.ReminderService.FailedTickRetryMs));
        await Eventually.True(() => Ticks(key).Count == 2, "the reminder was delivered again");
        await Eventually.True(async () => (await grain.List()).Count == 0, "handled, the one-shot reminder is deleted");
    }

    /// <summary>Reminders are stored to the millisecond; a moment between two milliseconds used to be stored rounded
    /// down and fire before it, and a grain that then found its moment not yet due lost its wake-up for good.</summary>
    [Fact]
    public async Task A_reminder_for_a_moment_between_two_milliseconds_never_fires_before_it()
    {
        var key = $"p-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IPromiseGrain>(key);
        await grain.Promise(TimeSpan.FromSeconds(10) + TimeSpan.FromTicks(4_635), TimeSpan.Zero); // due 10.0004635 s on

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Empty(Ticks(key));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.True(() => Ticks(key).Count == 1, "the reminder fired once its moment had passed");
        Assert.Equal($"tick:{PromiseGrain.Reminder}:{Ms(Start.AddSeconds(10)) + 1}", Ticks(key)[0]);
    }

    [Fact]
    public async Task A_reminder_its_grain_registers_again_while_the_previous_tick_runs_is_kept_and_fires()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IReminderGrain>(key);
        await grain.Schedule(ReminderGrain.Relay, TimeSpan.FromSeconds(10), TimeSpan.Zero);

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => Ticks(key).Count == 2, "the reminder and its re-registration due at once fired");
        await Eventually.True(async () => await grain.List() is [{ } next] && next.DueAt == Start.AddSeconds(10).AddHours(1), "the second tick's registration is stored");
        _clock.Advance(TimeSpan.FromHours(1));

        await Eventually.True(() => Ticks(key).Count == 3, "the hour-later registration fired");
        Assert.Equal($"tick:{ReminderGrain.Relay}:{Ms(Start.AddSeconds(10).AddHours(1))}", Ticks(key)[2]);
    }

    [Fact]
    public async Task A_reminder_registered_before_a_restart_fires_after_it_exactly_once()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using (var before = await StartSilo())
        {
            await before.Grain<IReminderGrain>(key).Schedule("breach", TimeSpan.FromSeconds(20), TimeSpan.Zero);
        }

        _clock.Advance(TimeSpan.FromMinutes(5)); // due while the silo was down

        await using (var after = await StartSilo())
        {
            await Eventually.True(() => Ticks(key).Count == 1, "the overdue reminder fired on start");
            _clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(200);
        }
        await using (var again = await StartSilo())
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(200);
        }

        Assert.Equal([$"tick:breach:{Ms(Start.AddSeconds(20))}"], Ticks(key));
    }

    [Fact]
    public async Task A_periodic_reminder_missed_several_times_while_down_fires_once_then_keeps_its_period()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using (var before = await StartSilo())
        {
            await before.Grain<IReminderGrain>(key).Schedule("poll", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        }

        _clock.Advance(TimeSpan.FromSeconds(35)); // due at +10, +20, +30 while down

        await using var after = await StartSilo();
        await Eventually.True(() => Ticks(key).Count == 1, "one catch-up tick");
        _clock.Advance(TimeSpan.FromSeconds(5)); // now +40: the next period
        await Eventually.True(() => Ticks(key).Count == 2, "the next period fires");

        Assert.Equal([$"tick:poll:{Ms(Start.AddSeconds(10))}", $"tick:poll:{Ms(Start.AddSeconds(40))}"], Ticks(key));
    }

    [Fact]
    public async Task A_reminder_beyond_the_horizon_holds_no_memory_until_its_window_comes()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        await silo.Grain<IReminderGrain>(key).Schedule("planned-outage-notice", TimeSpan.FromDays(7), TimeSpan.Zero);

        Assert.Equal(0, silo.Silo.GetStatistics().RemindersInMemory);

        for (var step = 0; step < 7 * 24 * 4; step++)
        {
            _clock.Advance(TimeSpan.FromMinutes(15));
        }
        await Eventually.True(() => Ticks(key).Count == 1, "the week-ahead reminder fired");
        Assert.Equal($"tick:planned-outage-notice:{Ms(Start.AddDays(7))}", Ticks(key)[0]);
    }

    [Fact]
    public async Task An_unregistered_reminder_does_not_fire()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IReminderGrain>(key);
        await grain.Schedule("callback", TimeSpan.FromSeconds(5), TimeSpan.Zero);
        await grain.Cancel("callback");

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(200);

        Assert.Empty(Ticks(key));
        Assert.Empty(await grain.List());
    }

    [Fact]
    public async Task A_reminder_written_with_the_state_is_stored_with_it_fires_and_is_removed_by_a_later_write()
    {
        var key = $"p-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IPromiseGrain>(key);

        await grain.Promise(TimeSpan.FromSeconds(10), TimeSpan.Zero);
        Assert.Equal(Start.AddSeconds(10), await grain.Promised());
        Assert.Equal([new ReminderInfo(PromiseGrain.Reminder, Start.AddSeconds(10), TimeSpan.Zero)], await grain.List());

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => Ticks(key).Count == 1, "the reminder written with the state fired");
        // The first tick promised again an hour on, through its own write: that reminder is kept, not deleted as the
        // fired one-shot.
        await Eventually.True(async () => await grain.List() is [{ } next] && next.DueAt == Start.AddSeconds(10).AddHours(1), "the tick's new promise is stored");

        await grain.Promise(null, TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromHours(2));
        await Task.Delay(200);

        Assert.Equal([$"tick:{PromiseGrain.Reminder}:{Ms(Start.AddSeconds(10))}"], Ticks(key));
        Assert.Empty(await grain.List());
        Assert.Null(await grain.Promised());
    }

    [Fact]
    public async Task A_reminder_written_with_the_state_before_a_restart_fires_after_it_exactly_once()
    {
        var key = $"p-{Guid.NewGuid():N}";
        await using (var before = await StartSilo())
        {
            await before.Grain<IPromiseGrain>(key).Promise(TimeSpan.FromSeconds(20), TimeSpan.Zero);
        }

        _clock.Advance(TimeSpan.FromMinutes(5)); // due while the silo was down

        await using (var after = await StartSilo())
        {
            await Eventually.True(() => Ticks(key).Count == 1, "the overdue reminder fired on start");
        }
        Assert.Equal([$"tick:{PromiseGrain.Reminder}:{Ms(Start.AddSeconds(20))}"], Ticks(key));
    }

    [Fact]
    public async Task A_reminder_change_the_runtime_refuses_writes_no_state_either()
    {
        var key = $"p-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        var grain = silo.Grain<IPromiseGrain>(key);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => grain.Promise(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500)));

        Assert.Null(await silo.Silo.Storage.ReadStateAsync(new GrainId("PromiseGrain", key)));
        Assert.Empty(await grain.List());
        Assert.Null(await grain.Promised());
    }

    [Fact]
    public async Task Reminders_are_stored_in_the_partition_of_their_grain_key()
    {
        var key = $"r-{Guid.NewGuid():N}";
        await using var silo = await StartSilo();
        await silo.Grain<IReminderGrain>(key).Schedule("x", TimeSpan.FromHours(1), TimeSpan.Zero);

        var stored = await silo.Silo.Storage.ReadRemindersAsync(new GrainId("ReminderGrain", key));

        var partition = Assert.Single(stored).Partition;
        Assert.Equal(new GrainId("ReminderGrain", key).Partition(256), partition);
        Assert.InRange(partition, 0, 255);
    }
}

public sealed class SqliteReminderTests : ReminderTests, IDisposable
{
    private readonly TempSqlite _db = new();

    protected override Task<Func<IStorageProvider>> OpenStoreAsync() => Task.FromResult<Func<IStorageProvider>>(() => _db.NewProvider());

    public void Dispose() => _db.Dispose();
}

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlReminderTests(PostgresFixture postgres) : ReminderTests
{
    protected override Task<Func<IStorageProvider>> OpenStoreAsync() => TestStores.PostgreSqlAsync(postgres, "reminders");
}
