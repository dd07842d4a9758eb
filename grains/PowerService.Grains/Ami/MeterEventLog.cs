using System.Text;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Recovery;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Ami;

/// <summary>The write-ahead log of the meter events the ingestion acknowledges. A transformer area keeps its meters'
/// flags written behind (a storm changes 20,000 areas a second), so an event is durable when acknowledged only because
/// it is in this log: each applied batch is appended as one record, in the same time as its area calls, and the
/// head-end hears back when both are done. After a crash the silo replays the log before it takes calls; applying an
/// event twice changes nothing (a meter applies only events newer than the newest it applied, an area's energy counts a
/// reading's interval once). Records are deleted <see cref="IngestionOptions.LogRetention"/> after they were appended,
/// long after the areas stored their effects.
/// One record is a format byte, the event count, then per event: meter id, event id, type, time (UTC ticks and offset
/// minutes), which of kWh, voltage and load follow, and those: ~35 bytes a last gasp against ~150 as JSON.</summary>
internal sealed partial class MeterEventLog(IngestionOptions options, ILogger logger)
{
    public const string Name = "ami-meter-events";

    private const byte Format = 1;
    private const int ReplayPage = 8;
    private const byte HasKwh = 1, HasVoltage = 2, HasLoad = 4;

    private long _lastAppended;

    // The records replayed at start, by when they were appended: the trim counts their retention from then, not from the
    // start (a silo restarted every few minutes never trimmed, and each start replayed more).
    private readonly List<(DateTimeOffset At, long Sequence)> _replayed = [];

    /// <summary>Appends the events as one record; durable when the task completes.</summary>
    public async Task AppendAsync(IStorageProvider storage, IReadOnlyCollection<List<MeterEvent>> eventsByArea)
    {
        // The head-end is a bulk sender: its records go after the writes people wait on (a dispatcher's update in a storm).
        var sequence = await storage.AppendLogAsync(Name, Encode(eventsByArea), WriteUrgency.Background).ConfigureAwait(false);
        Appended(sequence);
    }

    /// <summary>The events still in the log, a record at a time, oldest first.</summary>
    public async IAsyncEnumerable<List<MeterEvent>> ReadAsync(IStorageProvider storage, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var record in ReadRecordsAsync(storage, cancellationToken).ConfigureAwait(false))
        {
            Appended(record.Sequence);
            _replayed.Add((record.AppendedAt, record.Sequence));
            yield return Decode(record.Payload);
        }
    }

    /// <summary>The records still in the log as stored, oldest first, a page at a time.</summary>
    internal static async IAsyncEnumerable<LogRecord> ReadRecordsAsync(IStorageProvider storage, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = 0L;
        while (true)
        {
            var page = await storage.ReadLogAsync(Name, after, ReplayPage, cancellationToken).ConfigureAwait(false);
            foreach (var record in page)
            {
                yield return record;
            }
            if (page.Count < ReplayPage)
            {
                yield break;
            }
            after = page[^1].Sequence;
        }
    }

    /// <summary>Every <see cref="IngestionOptions.LogTrimInterval"/>, deletes the records appended at least
    /// <see cref="IngestionOptions.LogRetention"/> ago, until <paramref name="stop"/>.</summary>
    public async Task KeepTrimmedAsync(Silo silo, CancellationToken stop)
    {
        var time = silo.TimeProvider;
        var ends = new TrailingSequence(options.LogRetention);
        foreach (var (at, sequence) in _replayed)
        {
            ends.Sample(at, sequence);
        }
        _replayed.Clear();
        ends.Sample(time.GetUtcNow(), Volatile.Read(ref _lastAppended));
        using var timer = new PeriodicTimer(options.LogTrimInterval, time);
        var trimmed = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                ends.Sample(now, Volatile.Read(ref _lastAppended));
                if (ends.Settled(now) is not { } through || through <= trimmed)
                {
                    continue;
                }
                try
                {
                    await silo.Storage.TruncateLogAsync(Name, through, stop).ConfigureAwait(false);
                    trimmed = through;
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // The store is down: the records stay, and the next tick deletes them with the newer ones.
                    LogTrimFailed(logger, error);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Appended(long sequence)
    {
        var seen = Volatile.Read(ref _lastAppended);
        while (sequence > seen)
        {
            var found = Interlocked.CompareExchange(ref _lastAppended, sequence, seen);
            if (found == seen)
            {
                return;
            }
            seen = found;
        }
    }

    internal static byte[] Encode(IReadOnlyCollection<List<MeterEvent>> eventsByArea)
    {
        var count = eventsByArea.Sum(events => events.Count);
        using var buffer = new MemoryStream(16 + count * 40);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            writer.Write7BitEncodedInt(count);
            foreach (var events in eventsByArea)
            {
                foreach (var e in events)
                {
                    writer.Write(e.MeterId);
                    writer.Write(e.EventId);
                    writer.Write((byte)e.Type);
                    writer.Write(e.At.UtcTicks);
                    writer.Write((short)e.At.TotalOffsetMinutes);
                    writer.Write((byte)((e.Kwh is null ? 0 : HasKwh) | (e.Voltage is null ? 0 : HasVoltage) | (e.LoadKw is null ? 0 : HasLoad)));
                    WriteIfAny(writer, e.Kwh);
                    WriteIfAny(writer, e.Voltage);
                    WriteIfAny(writer, e.LoadKw);
                }
            }
        }
        return buffer.ToArray();
    }

    internal static List<MeterEvent> Decode(byte[] record)
    {
        using var reader = new BinaryReader(new MemoryStream(record, writable: false), Encoding.UTF8);
        if (reader.ReadByte() != Format)
        {
            throw new InvalidDataException($"A meter event log record of an unknown format ({record[0]}).");
        }
        var count = reader.Read7BitEncodedInt();
        var events = new List<MeterEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var meterId = reader.ReadString();
            var eventId = reader.ReadString();
            var type = (MeterEventType)reader.ReadByte();
            var ticks = reader.ReadInt64();
            var offset = TimeSpan.FromMinutes(reader.ReadInt16());
            var present = reader.ReadByte();
            var kwh = (present & HasKwh) != 0 ? reader.ReadDouble() : (double?)null;
            var voltage = (present & HasVoltage) != 0 ? reader.ReadDouble() : (double?)null;
            var load = (present & HasLoad) != 0 ? reader.ReadDouble() : (double?)null;
            events.Add(new MeterEvent(meterId, eventId, type, new DateTimeOffset(ticks + offset.Ticks, offset), kwh, voltage, load));
        }
        return events;
    }

    private static void WriteIfAny(BinaryWriter writer, double? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The meter event log could not be trimmed; its records stay until the next try")]
    private static partial void LogTrimFailed(ILogger logger, Exception error);
}
