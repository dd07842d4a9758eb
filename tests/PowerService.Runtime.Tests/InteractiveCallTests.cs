using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests;

/// <summary>A person's calls (a flow the API marks, <see cref="InteractiveCalls"/>) write through their own queue, ahead
/// of the silo's own awaited writes; calls from an unmarked flow do not.</summary>
public sealed class InteractiveCallTests : IDisposable
{
    private readonly TempSqlite _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task A_marked_flow_writes_through_the_interactive_queue_and_an_unmarked_one_through_the_silos_own()
    {
        var batches = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "PowerService.Runtime" && instrument.Name == "powerservice.storage.batch.size")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "operation")
                {
                    batches.Enqueue((string)tag.Value!);
                }
            }
        });
        listener.Start();
        await using var silo = await TestSilo.StartAsync(_db.NewProvider());
        var key = $"i-{Guid.NewGuid():N}";

        await Task.Run(() => silo.Grain<ICounterGrain>(key).Add(1));
        Assert.DoesNotContain("state (interactive)", batches);

        await Task.Run(async () =>
        {
            InteractiveCalls.MarkCurrentFlow();
            Assert.True(InteractiveCalls.IsCurrent);
            Assert.Equal(2, await silo.Grain<ICounterGrain>(key).Add(1));
        });
        Assert.Contains("state (interactive)", batches);
        Assert.False(InteractiveCalls.IsCurrent); // the test's own flow was not marked by the one it started
        Assert.Equal(2, await silo.Grain<ICounterGrain>(key).Get());
    }
}
