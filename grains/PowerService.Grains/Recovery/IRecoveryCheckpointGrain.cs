using PowerService.Runtime;

namespace PowerService.Grains.Recovery;

/// <summary>Where the silo's recovery starts reading the journal (key: <see cref="ViewRecovery.CheckpointKey"/>): every
/// change journaled at or before this sequence is known to be in the stored state of the views that mirror orders.</summary>
public interface IRecoveryCheckpointGrain : IGrain
{
    /// <summary>The checkpoint, or null when none was ever set (a new store, or one from before recovery existed).</summary>
    Task<long?> Get();

    /// <summary>Moves the checkpoint forward to <paramref name="sequence"/>; an older sequence is ignored.</summary>
    Task Advance(long sequence);
}

internal sealed class RecoveryCheckpointGrain(IPersistentState<RecoveryCheckpoint> state) : Grain, IRecoveryCheckpointGrain
{
    public Task<long?> Get() => Task.FromResult(state.State.Sequence);

    public async Task Advance(long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        if (state.State.Sequence >= sequence)
        {
            return;
        }
        state.State.Sequence = sequence;
        await state.WriteStateAsync();
    }
}

internal sealed class RecoveryCheckpoint
{
    public long? Sequence { get; set; }
}
