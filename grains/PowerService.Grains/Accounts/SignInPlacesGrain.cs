using PowerService.Runtime;

namespace PowerService.Grains.Accounts;

/// <summary>The addresses a user signed in from, latest last (key: the user name, lower case), kept across restarts: the
/// sign-in throttle lets a known address sign in while the name's sign-ins are paused, and after a restart the
/// dispatcher's own workstation was unknown until it signed in again, which an attacker's ten wrong passwords every
/// five minutes kept it from doing.</summary>
public interface ISignInPlacesGrain : IGrain
{
    /// <summary>Places kept per user (the latest).</summary>
    const int KeptPerName = 8;

    Task<IReadOnlyList<SignInPlace>> Get();

    /// <summary>One-way: a sign-in is not held up by the write.</summary>
    [OneWay]
    Task Remember(string address, DateTimeOffset at);
}

public sealed record SignInPlace(string Address, DateTimeOffset At);

internal sealed class SignInPlacesGrain(IPersistentState<SignInPlacesState> state) : Grain, ISignInPlacesGrain
{
    public Task<IReadOnlyList<SignInPlace>> Get() => Task.FromResult<IReadOnlyList<SignInPlace>>([.. state.State.Places]);

    public Task Remember(string address, DateTimeOffset at)
    {
        var places = state.State.Places;
        places.RemoveAll(p => p.Address == address);
        if (places.Count >= ISignInPlacesGrain.KeptPerName)
        {
            places.RemoveAt(0);
        }
        places.Add(new SignInPlace(address, at));
        return state.WriteStateAsync();
    }
}

internal sealed class SignInPlacesState
{
    public List<SignInPlace> Places { get; set; } = [];
}
