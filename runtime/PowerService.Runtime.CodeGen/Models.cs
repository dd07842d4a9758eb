using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PowerService.Runtime.CodeGen;

// Pipeline models hold strings only (no symbols), so equal inputs compare equal and stay cached.

/// <summary>One grain interface declared in the compilation, with everything needed to emit its reference.</summary>
/// <param name="InterfaceType">Fully qualified, e.g. <c>global::Ns.Outer.IFoo</c>.</param>
/// <param name="GeneratedNamespace">Namespace of the generated types, e.g. <c>Ns.Generated</c>.</param>
/// <param name="ProxyName">Simple name of the generated reference, e.g. <c>Outer_IFooReference</c>.</param>
/// <param name="IsValid">False when the interface or one of its methods broke a rule; nothing is emitted then.</param>
internal sealed record GrainInterfaceModel(
    string InterfaceType,
    string GeneratedNamespace,
    string ProxyName,
    EquatableArray<MethodModel> Methods,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool IsValid)
{
    public string ProxyType => $"global::{GeneratedNamespace}.{ProxyName}";
}

/// <summary>One method the reference implements, possibly declared by a base grain interface.</summary>
/// <param name="InterfaceType">The declaring interface, fully qualified.</param>
/// <param name="InterfaceName">The declaring interface as <see cref="System.Type.FullName"/> spells it.</param>
/// <param name="Name">The method name as written in C# (keywords escaped).</param>
/// <param name="MethodName">The plain method name reported by the invocation.</param>
/// <param name="ResultType">The <c>T</c> of <c>Task&lt;T&gt;</c>; null for a plain <c>Task</c>.</param>
/// <param name="InvocationName">Simple name of the generated invocation class, unique per compilation.</param>
internal sealed record MethodModel(
    string InterfaceType,
    string InterfaceName,
    string Name,
    string MethodName,
    string ReturnType,
    string? ResultType,
    bool IsInterleaving,
    bool IsOneWay,
    string InvocationName,
    EquatableArray<ParameterModel> Parameters);

/// <param name="Name">The parameter name as written in C# (keywords escaped).</param>
/// <param name="NeedsNullForgiving">A non-nullable reference field needs <c>= default!</c> to compile warning-free.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsParams, bool NeedsNullForgiving);

/// <summary>A diagnostic kept as data; <see cref="Location"/> holds a syntax tree, which would defeat caching.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
    {
        var arguments = new object[Arguments.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = Arguments[i];
        }
        return Diagnostic.Create(Descriptor, Location?.ToLocation(), arguments);
    }
}

internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location location) =>
        location.SourceTree is null ? null : new(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}
