using System.Diagnostics.Tracing;
using System.Globalization;

namespace PowerService.LoadTests.Harness;

/// <summary>What a phase allocates, by type: the runtime's own allocation sampling (a GC AllocationTick event about
/// every 100 KB a thread allocates, naming the type of the object that crossed it), heard in-process. The types with
/// the most ticks are where the garbage comes from. Costs a little while it listens: turn it on for a look, not for
/// the figures.</summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Ticks, long Bytes)> _byType = new(StringComparer.Ordinal);

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
        {
            return;
        }
        var type = "?";
        long bytes = 0;
        for (var i = 0; i < e.Payload.Count; i++)
        {
            switch (e.PayloadNames?[i])
            {
                case "TypeName": type = e.Payload[i] as string ?? "?"; break;
                case "AllocationAmount64": bytes = Convert.ToInt64(e.Payload[i], CultureInfo.InvariantCulture); break;
            }
        }
        lock (_lock)
        {
            var (ticks, total) = _byType.GetValueOrDefault(type);
            _byType[type] = (ticks + 1, total + bytes);
        }
    }

    public void Print(int top = 20)
    {
        lock (_lock)
        {
            var total = Math.Max(1, _byType.Values.Sum(v => v.Bytes));
            Report.Line($"allocated (sampled, ~{total / 1048576.0:N0} MB): " + string.Join(", ", _byType.OrderByDescending(t => t.Value.Bytes).Take(top)
                .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {100.0 * t.Value.Bytes / total:0.0}%"))));
        }
    }
}
