using System.Numerics;
using System.Reflection;

namespace PowerService.Runtime;

/// <summary>Settings of one silo. Bound from the "Silo" configuration section by the host.</summary>
public sealed class SiloOptions
{
    /// <summary>Grain keys hash to this many partitions; reminders (and later silo ownership) are kept per partition.</summary>
    public int PartitionCount { get; set; } = 256;

    /// <summary>How long a caller waits for a grain call before it gets <see cref="GrainCallTimeoutException"/>.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Idle time after which an activation is deactivated, unless its class sets <see cref="IdleTimeoutAttribute"/>.</summary>
    public TimeSpan DefaultIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The most activations kept in memory; above it the least recently used idle ones are deactivated.</summary>
    public int MaxActivations { get; set; } = 2_000_000;

    /// <summary>How often the collector looks for idle activations, expired calls and the activation cap.</summary>
    public TimeSpan CollectionInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most state writes committed in one transaction; also the most activation state reads batched into one
    /// read (the group read shares the group commit's mechanism and settings).</summary>
    public int StateWriteBatchSize { get; set; } = 512;

    /// <summary>Most background state writes (<see cref="IPersistentState{TState}.WriteStateInBackgroundAsync"/>) in one
    /// transaction; kept small so that a write a caller waits on is never stuck behind a long one.</summary>
    public int BackgroundWriteBatchSize { get; set; } = 64;

    /// <summary>Loops of the group commit, and of the group read; more than one overlaps round trips to a server store.</summary>
    public int StateWriters { get; set; } = 2;

    /// <summary>Attempts (including the first) before a storage operation reports the store as unavailable.</summary>
    public int StorageRetryAttempts { get; set; } = 4;

    /// <summary>Delay before the first retry; it doubles for each further attempt.</summary>
    public TimeSpan StorageRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Reminders due within this window are held in memory; later ones stay in the store until the window reaches them.</summary>
    public TimeSpan ReminderHorizon { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long shutdown waits for activations to deactivate.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>One call in this many is timed for the call latency histogram (1 = every call; a power of two, so the
    /// choice is a mask, not a division). Call and error counts are exact regardless.</summary>
    public int CallLatencySampling { get; set; } = 16;

    /// <summary>Assemblies searched for grain classes.</summary>
    public IList<Assembly> GrainAssemblies { get; } = [];

    /// <summary>The clock for timers and reminders; tests pass a manual one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public IGrainStateSerializer StateSerializer { get; set; } = new JsonGrainStateSerializer();

    public SiloOptions AddGrainsFrom(Assembly assembly)
    {
        if (!GrainAssemblies.Contains(assembly))
        {
            GrainAssemblies.Add(assembly);
        }
        return this;
    }

    internal void Validate()
    {
        Require(PartitionCount is > 0 and <= 65536, nameof(PartitionCount), "must be between 1 and 65536");
        Require(CallTimeout > TimeSpan.Zero, nameof(CallTimeout), "must be positive");
        Require(DefaultIdleTimeout > TimeSpan.Zero, nameof(DefaultIdleTimeout), "must be positive");
        Require(MaxActivations > 0, nameof(MaxActivations), "must be positive");
        Require(CollectionInterval > TimeSpan.Zero, nameof(CollectionInterval), "must be positive");
        Require(StateWriteBatchSize > 0, nameof(StateWriteBatchSize), "must be positive");
        Require(BackgroundWriteBatchSize > 0, nameof(BackgroundWriteBatchSize), "must be positive");
        Require(StateWriters > 0, nameof(StateWriters), "must be positive");
        Require(StorageRetryAttempts > 0, nameof(StorageRetryAttempts), "must be positive");
        Require(CallLatencySampling > 0 && BitOperations.IsPow2(CallLatencySampling), nameof(CallLatencySampling), "must be a power of two (1, 2, 4 … 16)");
        Require(ReminderHorizon >= TimeSpan.FromSeconds(1), nameof(ReminderHorizon), "must be at least one second");
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"Silo option {name} {rule}.", name);
        }
    }
}
