using System.Globalization;
using System.Text.Json;
using PowerService.Runtime.Storage;

namespace PowerService.Runtime;

/// <summary>A grain's durable state, Orleans-style: read on activation, written with an etag.</summary>
public interface IPersistentState<TState>
{
    TState State { get; set; }

    /// <summary>The version last read or written; null when nothing is stored.</summary>
    string? Etag { get; }

    bool RecordExists { get; }

    Task ReadStateAsync();

    /// <summary>Writes the state through the silo's group commit. Throws <see cref="InconsistentStateException"/> when
    /// someone else wrote since this grain last read or wrote (nothing is overwritten), and
    /// <see cref="StorageUnavailableException"/> when the store stayed down through the retries.
    /// The state is serialized when this is called, so the grain may change it (or start another write) before the
    /// write completes: writes of one state are stored in the order they were started, each after the one before.</summary>
    Task WriteStateAsync();

    /// <summary>Writes the state and appends <paramref name="events"/> to the journal in one transaction: both are
    /// stored or neither is. Same exceptions as <see cref="WriteStateAsync()"/>.</summary>
    Task WriteStateAsync(IReadOnlyList<JournalEvent> events);

    /// <summary>Writes the state, appends <paramref name="events"/> and sets or removes one of the grain's reminders,
    /// all in one transaction: stored together or not at all. One storage round trip where registering the reminder
    /// apart would take two, and no state is left stored without the reminder it counts on (or the reverse) when the
    /// silo stops between them. Same exceptions as <see cref="WriteStateAsync()"/>, and those of a reminder
    /// registration when the change is not valid (nothing is then written).</summary>
    Task WriteStateAsync(IReadOnlyList<JournalEvent> events, ReminderChange reminder);

    /// <summary>Writes the state like <see cref="WriteStateAsync()"/> (same order, same exceptions) but behind the
    /// writes callers wait on: for write-behind state that nobody waits for. When the store is the bottleneck these
    /// wait, not the interactive ones.</summary>
    Task WriteStateInBackgroundAsync();

    Task ClearStateAsync();
}

/// <summary>Names a persistent state constructor parameter; a grain may have several states under different names.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName) : Attribute
{
    public string StateName { get; } = stateName;
}

/// <summary>Turns grain state into bytes and back. The default is System.Text.Json.</summary>
public interface IGrainStateSerializer
{
    byte[] Serialize<TState>(TState state);
    TState Deserialize<TState>(ReadOnlySpan<byte> payload);
}

public sealed class JsonGrainStateSerializer : IGrainStateSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    public byte[] Serialize<TState>(TState state) => JsonSerializer.SerializeToUtf8Bytes(state, Options);

    public TState Deserialize<TState>(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize<TState>(payload, Options) ?? throw new JsonException("The stored state is null.");
}

internal interface IActivationState
{
    Task ReadStateAsync();

    /// <summary>Completes when every write started so far has been stored or has failed (never throws).</summary>
    Task WritesDone();
}

internal sealed class PersistentState<TState>(Activation activation, GrainId storageId) : IPersistentState<TState>, IActivationState
{
    private readonly Silo _silo = activation.Silo;

    private long _version;

    // The last write started; the next one is sent when it has completed, with the version it produced.
    private Task? _writing;

    public TState State { get; set; } = CreateDefault();

    public string? Etag => _version == 0 ? null : _version.ToString(CultureInfo.InvariantCulture);

    public bool RecordExists => _version != 0;

    public async Task ReadStateAsync()
    {
        var stored = await _silo.ReadStateAsync(storageId);
        if (stored is null)
        {
            _version = 0;
            State = CreateDefault();
            return;
        }
        try
        {
            State = _silo.StateSerializer.Deserialize<TState>(stored.Payload);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException)
        {
            throw new StateSerializationException($"Stored state of {storageId} cannot be read as {typeof(TState).Name}: {error.Message}", error);
        }
        _version = stored.Version;
    }

    public Task WriteStateAsync() => WriteStateAsync([]);

    public Task WritesDone() => _writing is { } writing ? Settled(writing) : Task.CompletedTask;

    public Task WriteStateInBackgroundAsync() => Write([], inBackground: true);

    public Task WriteStateAsync(IReadOnlyList<JournalEvent> events) => Write(events, inBackground: false);

    public async Task WriteStateAsync(IReadOnlyList<JournalEvent> events, ReminderChange reminder)
    {
        var change = _silo.Reminders.Plan(activation.Id, activation.Class.Type, reminder);
        await Write(events, inBackground: false, [change]);
        _silo.Reminders.Committed(change);
    }

    private Task Write(IReadOnlyList<JournalEvent> events, bool inBackground, IReadOnlyList<ReminderWrite>? reminders = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        byte[] payload;
        try
        {
            payload = _silo.StateSerializer.Serialize(State);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new StateSerializationException($"State of {storageId} ({typeof(TState).Name}) cannot be serialized; nothing was written: {error.Message}", error);
        }
        return After(new StateWrite(storageId, 0, payload, events.Count == 0 ? null : events, reminders), inBackground);
    }

    public async Task ClearStateAsync()
    {
        await After(new StateWrite(storageId, 0, null), inBackground: false);
        State = CreateDefault();
    }

    /// <summary>Sends the write after the last one started (at once when that one is done), expecting the version
    /// that one leaves.</summary>
    private Task After(StateWrite write, bool inBackground)
    {
        var sent = _writing is { IsCompleted: false } previous ? SendAfter(previous, write, inBackground) : Send(write, inBackground);
        _writing = sent;
        return sent;
    }

    private async Task SendAfter(Task previous, StateWrite write, bool inBackground)
    {
        await Settled(previous);
        await Send(write, inBackground);
    }

    /// <summary>Completes when <paramref name="write"/> does, whether it was stored or failed: a failed write stored
    /// nothing and its caller has the error; what follows goes on from the version before it.</summary>
    private static async Task Settled(Task write)
    {
        try
        {
            await write;
        }
        catch
        {
            // the caller of that write has the error
        }
    }

    private async Task Send(StateWrite write, bool inBackground) =>
        _version = await Apply(write with { ExpectedVersion = _version }, inBackground);

    private async Task<long> Apply(StateWrite write, bool inBackground)
    {
        var outcome = await _silo.WriteStateAsync(write, inBackground);
        if (!outcome.Applied)
        {
            var current = outcome.CurrentVersion == 0 ? null : outcome.CurrentVersion.ToString(CultureInfo.InvariantCulture);
            throw new InconsistentStateException(
                $"State of {storageId} was written by someone else: this activation holds etag '{Etag ?? "(none)"}', the store has '{current ?? "(none)"}'. Nothing was written.",
                Etag, current);
        }
        return outcome.NewVersion;
    }

    private static TState CreateDefault() =>
        typeof(TState).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<TState>() : default!;
}
