using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

public sealed class LowPriorityTests : IAsyncLifetime
{
    private const int Workers = 2;
    private readonly TempSqlite _db = new();
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(_db.NewProvider(), o => o.LowPriorityWorkers = Workers);

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _db.Dispose();
    }

    [Fact]
    public async Task A_low_priority_grains_turns_run_on_its_workers_below_normal_priority_before_and_after_an_await()
    {
        var turns = await _silo.Grain<IBulkGrain>("where-1").WhereDoTurnsRun();

        Assert.Equal(2, turns.Count);
        Assert.All(turns, t =>
        {
            Assert.False(t.IsThreadPoolThread);
            Assert.StartsWith("PowerService low-priority turns", t.Name);
            if (OperatingSystem.IsLinux())
            {
                Assert.Equal(LowPriorityWorkers.Nice, t.Nice);
            }
        });
    }

    [Fact]
    public async Task Other_grains_answer_while_every_low_priority_worker_is_busy_and_the_queued_low_priority_calls_run_after()
    {
        var occupied = Enumerable.Range(1, Workers).Select(i => _silo.Grain<IBulkGrain>($"busy-{i}").Occupy()).ToArray();
        var queued = _silo.Grain<IBulkGrain>("queued-1").Add(5);

        // Every low-priority worker is held; an ordinary grain still runs on the thread pool.
        Assert.Equal(3, await _silo.Grain<ICounterGrain>("interactive-1").Add(3));
        await Task.Delay(50);
        Assert.False(queued.IsCompleted, "a low-priority call waits for a free low-priority worker");

        for (var i = 1; i <= Workers; i++)
        {
            BulkGrain.GateFor($"busy-{i}").Set();
        }
        await Task.WhenAll(occupied);
        Assert.Equal(5, await queued);
    }

    [Fact]
    public async Task A_low_priority_grain_keeps_one_turn_at_a_time_in_arrival_order()
    {
        var grain = _silo.Grain<IBulkGrain>("order-1");

        var totals = await Task.WhenAll(Enumerable.Range(1, 200).Select(grain.Add));

        Assert.Equal(Enumerable.Range(1, 200).Select(n => n * (n + 1) / 2), totals);
    }
}
