using PowerService.TestSupport;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

public sealed class MetricsTests : IDisposable
{
    private readonly TempSqlite _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Calls_latency_activations_and_storage_batches_are_published_by_type_and_method()
    {
        var longs = new ConcurrentBag<(string Name, long Value, Dictionary<string, object?> Tags)>();
        var doubles = new ConcurrentBag<(string Name, double Value, Dictionary<string, object?> Tags)>();
        var ints = new ConcurrentBag<(string Name, int Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "PowerService.Runtime")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => longs.Add((i.Name, v, Tags(t))));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => doubles.Add((i.Name, v, Tags(t))));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => ints.Add((i.Name, v, Tags(t))));
        listener.Start();

        await using var silo = await TestSilo.StartAsync(_db.NewProvider(), o => o.CallLatencySampling = 1);
        var grain = silo.Grain<ICounterGrain>($"m-{Guid.NewGuid():N}");
        for (var i = 0; i < 5; i++)
        {
            await grain.Add(1);
        }
        await Assert.ThrowsAsync<InvalidOperationException>(() => silo.Grain<ISlowGrain>("m-fail").Fail("no"));
        await Assert.ThrowsAsync<RefusedException>(() => silo.Grain<ISlowGrain>("m-fail").Refuse("not now"));
        await Assert.ThrowsAsync<RefusedException>(() => silo.Grain<ISlowGrain>("m-fail").Refuse("not now"));

        // Counts reach the instruments at the collector's next pass.
        await Eventually.True(() =>
        {
            listener.RecordObservableInstruments();
            return longs.Any(m => m.Name == "powerservice.grain.calls" && Is(m.Tags, "CounterGrain", "Add") && m.Value == 5)
                && longs.Any(m => m.Name == "powerservice.grain.call.errors" && Is(m.Tags, "SlowGrain", "Fail") && m.Value == 1)
                && longs.Any(m => m.Name == "powerservice.grain.call.refusals" && Is(m.Tags, "SlowGrain", "Refuse") && m.Value == 2);
        }, "the call, error and refusal counts are observed");
        // A refusal is an answer, not a fault: the error count of the refusing method stays at zero.
        Assert.DoesNotContain(longs, m => m.Name == "powerservice.grain.call.errors" && Is(m.Tags, "SlowGrain", "Refuse") && m.Value != 0);
        Assert.Contains(doubles, m => m.Name == "powerservice.grain.call.duration" && Is(m.Tags, "CounterGrain", "Add") && m.Value > 0);
        Assert.Contains(ints, m => m.Name == "powerservice.activations" && Equals(m.Tags["grain.type"], "CounterGrain") && m.Value >= 1);
        Assert.Contains(ints, m => m.Name == "powerservice.storage.batch.size" && Equals(m.Tags["operation"], "state") && m.Value >= 1);
    }

    private static bool Is(Dictionary<string, object?> tags, string type, string method) =>
        Equals(tags.GetValueOrDefault("grain.type"), type) && Equals(tags.GetValueOrDefault("grain.method"), method);

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }
        return result;
    }
}
