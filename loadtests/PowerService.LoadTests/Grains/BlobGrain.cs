using PowerService.Runtime;

namespace PowerService.LoadTests.Grains;

public interface IBlobGrain : IGrain
{
    /// <summary>Replaces the state's data, writes it through the group commit and returns the write count.</summary>
    Task<int> Write(string data);
}

internal sealed record BlobState
{
    public int Writes { get; init; }
    public string Data { get; init; } = "";
}

internal sealed class BlobGrain(IPersistentState<BlobState> state) : Grain, IBlobGrain
{
    public async Task<int> Write(string data)
    {
        state.State = new BlobState { Writes = state.State.Writes + 1, Data = data };
        await state.WriteStateAsync();
        return state.State.Writes;
    }
}
