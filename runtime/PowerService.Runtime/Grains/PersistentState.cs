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
    /// <see cref="StorageUnavailableException"/> when the store stayed down through the retries.</summary>
    Task WriteStateAsync();

    /// <summary>Writes the state and appends <paramref name="events"/> to the journal in one transaction: both are
    /// stored or neither is. Same exceptions as <see cref="WriteStateAsync()"/>.</summary>
    Task WriteStateAsync(IReadOnlyList<JournalEvent> events);

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
}

internal sealed class PersistentState<TState>(Silo silo, GrainId storageId) : IPersistentState<TState>, IActivationState
{
    private long _version;

    public TState State { get; set; } = CreateDefault();

    public string? Etag => _version == 0 ? null : _version.ToString(CultureInfo.InvariantCulture);

    public bool RecordExists => _version != 0;

    public async Task ReadStateAsync()
    {
        var stored = await silo.ReadStateAsync(storageId);
        if (stored is null)
        {
            _version = 0;
            State = CreateDefault();
            return;
        }
        try
        {
            State = silo.StateSerializer.Deserialize<TState>(stored.Payload);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException)
        {
            throw new StateSerializationException($"Stored state of {storageId} cannot be read as {typeof(TState).Name}: {error.Message}", error);
        }
        _version = stored.Version;
    }

    public Task WriteStateAsync() => WriteStateAsync([]);

    public async Task WriteStateAsync(IReadOnlyList<JournalEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        byte[] payload;
        try
        {
            payload = silo.StateSerializer.Serialize(State);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new StateSerializationException($"State of {storageId} ({typeof(TState).Name}) cannot be serialized; nothing was written: {error.Message}", error);
        }
        _version = await Apply(new StateWrite(storageId, _version, payload, events.Count == 0 ? null : events));
    }

    public async Task ClearStateAsync()
    {
        _version = await Apply(new StateWrite(storageId, _version, null));
        State = CreateDefault();
    }

    private async Task<long> Apply(StateWrite write)
    {
        var outcome = await silo.WriteStateAsync(write);
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
