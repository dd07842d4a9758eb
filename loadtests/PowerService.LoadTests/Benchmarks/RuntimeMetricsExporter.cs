using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PowerService.Runtime.Diagnostics;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Listens to every instrument of the runtime's meter and aggregates in the callback the way an exporter
/// does: find the point of the measurement's tag set, add to it, and for histograms count it into a bucket. The
/// observable gauges are collected once a second, as a periodic reader would. Without aggregation the callbacks return
/// at once, which isolates what the runtime itself spends on recording.</summary>
internal sealed class RuntimeMetricsExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentBag<InstrumentAggregate> _aggregates = [];
    private readonly Timer _collect;

    public RuntimeMetricsExporter(bool aggregate)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName)
            {
                var instrumentAggregate = new InstrumentAggregate(instrument is Histogram<double> or Histogram<int>, aggregate);
                _aggregates.Add(instrumentAggregate);
                listener.EnableMeasurementEvents(instrument, instrumentAggregate);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Add(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Add(value, tags));
        _listener.Start();
        _collect = new Timer(_ => _listener.RecordObservableInstruments(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int Instruments => _aggregates.Count;

    public long Measurements => _aggregates.Sum(a => a.Count);

    public void Dispose()
    {
        _collect.Dispose();
        _listener.Dispose();
    }

    private sealed class InstrumentAggregate(bool histogram, bool aggregate)
    {
        // Upper bounds in the instrument's unit (mostly ms); the last bucket takes the rest.
        private static readonly double[] Bounds = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000];

        private readonly ConcurrentDictionary<(object?, object?), Point> _points = new();

        public long Count => _points.Values.Sum(p => Volatile.Read(ref p.Count));

        public void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (!aggregate)
            {
                return;
            }
            var key = (tags.Length > 0 ? tags[0].Value : null, tags.Length > 1 ? tags[1].Value : null);
            var point = _points.GetOrAdd(key, static _ => new Point());
            Interlocked.Increment(ref point.Count);
            if (histogram)
            {
                var bucket = Array.BinarySearch(Bounds, value);
                Interlocked.Increment(ref point.Buckets[bucket < 0 ? ~bucket : bucket]);
            }
            else
            {
                Interlocked.Add(ref point.Sum, (long)value);
            }
        }
    }

    private sealed class Point
    {
        public long Count;
        public long Sum;
        public readonly long[] Buckets = new long[14];
    }
}
