using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PowerService.Runtime.Diagnostics;

/// <summary>The runtime's instruments on the "PowerService.Runtime" meter. Recording is guarded by
/// <c>Enabled</c>, so with no listener a call costs a field read and no timestamp is taken. Call and error counts are
/// kept per grain class and method and observed when collected, rather than sent as one measurement per call: a
/// listener's per-measurement cost would otherwise dominate sub-microsecond calls. Counts reach the instruments at
/// the collector's passes (every Silo:CollectionInterval).</summary>
internal sealed class RuntimeMetrics : IDisposable
{
    public const string MeterName = "PowerService.Runtime";

    private readonly Meter _meter;
    private readonly ObservableCounter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly ObservableCounter<long> _callErrors;
    private readonly ObservableCounter<long> _callRefusals;
    private readonly Counter<long> _deactivations;
    private readonly Counter<long> _remindersFired;
    private readonly Histogram<double> _reminderLateness;
    private readonly Histogram<int> _storageBatchSize;
    private readonly Histogram<double> _storageBatchDuration;
    private readonly Counter<long> _storageErrors;

    /// <param name="silo">The meter's scope: a listener that watches one silo (several may run in one process, as in
    /// tests) tells its instruments apart by <see cref="Meter.Scope"/>.</param>
    public RuntimeMetrics(object silo, IReadOnlyList<GrainClass> classes, Func<int> queueDepth, Func<int> remindersInMemory)
    {
        _meter = new Meter(new MeterOptions(MeterName) { Scope = silo });
        _calls = _meter.CreateObservableCounter("powerservice.grain.calls", () => Observe(classes, c => c.Completed), "{call}", "Grain calls completed, by grain type and method.");
        _callDuration = _meter.CreateHistogram<double>("powerservice.grain.call.duration", "ms", "Grain call latency from send to completion, by grain type and method (a sample of calls).");
        _callErrors = _meter.CreateObservableCounter("powerservice.grain.call.errors", () => Observe(classes, c => c.Failed), "{call}", "Grain calls that ended in an exception (timeouts included), refusals apart.");
        _callRefusals = _meter.CreateObservableCounter("powerservice.grain.call.refusals", () => Observe(classes, c => c.Refused), "{call}", "Grain calls the grain refused (an IRefusal: invalid input, unknown entity, conflict with its state).");
        _deactivations = _meter.CreateCounter<long>("powerservice.grain.deactivations", "{activation}", "Deactivations by reason.");
        _remindersFired = _meter.CreateCounter<long>("powerservice.reminders.fired", "{tick}", "Reminder ticks delivered.");
        _reminderLateness = _meter.CreateHistogram<double>("powerservice.reminders.lateness", "ms", "How late a reminder tick fired after its due time.");
        _storageBatchSize = _meter.CreateHistogram<int>("powerservice.storage.batch.size", "{item}", "Items per group-committed storage batch.");
        _storageBatchDuration = _meter.CreateHistogram<double>("powerservice.storage.batch.duration", "ms", "Time to commit one storage batch.");
        _storageErrors = _meter.CreateCounter<long>("powerservice.storage.errors", "{error}", "Storage batches that failed (before or after retries).");
        _meter.CreateObservableGauge("powerservice.activations", () => classes.Select(c => new Measurement<int>(c.ActivationCount, new KeyValuePair<string, object?>("grain.type", c.TypeName))), "{activation}", "Live activations by grain type.");
        _meter.CreateObservableGauge("powerservice.activation.queue_depth", queueDepth, "{call}", "Calls waiting in activation queues (sampled by the collector).");
        _meter.CreateObservableGauge("powerservice.reminders.in_memory", remindersInMemory, "{reminder}", "Near-term reminders held in memory.");
    }

    public bool CallTimingEnabled => _callDuration.Enabled;

    /// <summary>True while someone observes call, error or refusal counts; activations count only then.</summary>
    public bool CallCountingEnabled => _calls.Enabled || _callErrors.Enabled || _callRefusals.Enabled;

    public void RecordLatency(GrainClass grainClass, Invocation invocation)
    {
        if (invocation.StartTimestamp != 0)
        {
            _callDuration.Record(
                Stopwatch.GetElapsedTime(invocation.StartTimestamp).TotalMilliseconds,
                new TagList { { "grain.type", grainClass.TypeName }, { "grain.method", invocation.MethodName } });
        }
    }

    private static IEnumerable<Measurement<long>> Observe(IReadOnlyList<GrainClass> classes, Func<MethodCalls, long> count) =>
        classes.SelectMany(c => c.Calls.Select(m => new Measurement<long>(
            count(m),
            new KeyValuePair<string, object?>("grain.type", c.TypeName),
            new KeyValuePair<string, object?>("grain.method", m.Method))));

    public void RecordDeactivation(DeactivationReason reason)
    {
        if (_deactivations.Enabled)
        {
            _deactivations.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        }
    }

    public void RecordReminderTick(TimeSpan lateness)
    {
        _remindersFired.Add(1);
        _reminderLateness.Record(lateness.TotalMilliseconds);
    }

    public void RecordStorageBatch(string operation, int size, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("operation", operation);
        _storageBatchSize.Record(size, tag);
        _storageBatchDuration.Record(duration.TotalMilliseconds, tag);
    }

    public void RecordStorageError(string operation) =>
        _storageErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Dispose() => _meter.Dispose();
}
