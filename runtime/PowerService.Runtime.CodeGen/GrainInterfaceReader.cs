using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PowerService.Runtime.CodeGen;

/// <summary>Turns an interface declaration into a <see cref="GrainInterfaceModel"/>, checking the grain rules.</summary>
internal static class GrainInterfaceReader
{
    private const string RuntimeNamespace = "PowerService.Runtime";
    private const string AlwaysInterleaveAttribute = "AlwaysInterleaveAttribute";
    private const string OneWayAttribute = "OneWayAttribute";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat NamespaceFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    public static GrainInterfaceModel? Read(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var syntax = (InterfaceDeclarationSyntax)context.Node;
        if (context.SemanticModel.GetDeclaredSymbol(syntax, cancellationToken) is not { } grainInterface
            || !IsGrainInterface(grainInterface)
            || !IsFirstDeclaration(grainInterface, syntax))
        {
            return null;
        }

        var findings = new Findings(grainInterface);
        CheckInterface(grainInterface, findings);
        var prefix = NamePrefix(grainInterface);
        var methods = new List<MethodModel>();
        foreach (var member in MembersToImplement(grainInterface))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary } method && IsGrainInterface(method.ContainingType))
            {
                var invocationName = $"{prefix}_{method.Name}_Invocation_{methods.Count}";
                if (ReadMethod(method, invocationName, findings) is { } model)
                {
                    methods.Add(model);
                }
            }
            else if (member.IsAbstract)
            {
                findings.Report(GrainDiagnostics.NotAMethod, member, grainInterface.ToDisplayString(), member.ToDisplayString());
            }
        }

        var containingNamespace = grainInterface.ContainingNamespace;
        var generatedNamespace = containingNamespace.IsGlobalNamespace
            ? "PowerService.Generated"
            : containingNamespace.ToDisplayString(NamespaceFormat) + ".Generated";
        return new GrainInterfaceModel(
            grainInterface.ToDisplayString(TypeFormat),
            generatedNamespace,
            prefix + "Reference",
            new EquatableArray<MethodModel>(methods),
            new EquatableArray<DiagnosticInfo>(findings.Diagnostics),
            !findings.HasErrors);
    }

    /// <summary>True for interfaces that derive from <c>IGrain</c>, other than <c>IGrain</c> itself.</summary>
    private static bool IsGrainInterface(INamedTypeSymbol type) =>
        type.TypeKind == TypeKind.Interface && !IsIGrain(type) && type.AllInterfaces.Any(IsIGrain);

    private static bool IsIGrain(INamedTypeSymbol type) =>
        type is { Name: "IGrain", Arity: 0, ContainingType: null } && type.ContainingNamespace.ToDisplayString() == RuntimeNamespace;

    // A partial interface has several declarations; only the first one emits, so output is not duplicated.
    private static bool IsFirstDeclaration(INamedTypeSymbol type, InterfaceDeclarationSyntax syntax) =>
        type.DeclaringSyntaxReferences.FirstOrDefault() is { } first
        && first.SyntaxTree == syntax.SyntaxTree
        && first.Span == syntax.Span;

    private static void CheckInterface(INamedTypeSymbol grainInterface, Findings findings)
    {
        var types = SelfAndContainingTypes(grainInterface).ToList();
        if (types.Any(type => type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)))
        {
            findings.Report(GrainDiagnostics.Inaccessible, grainInterface, grainInterface.ToDisplayString());
        }
        if (types.Any(type => type.IsGenericType))
        {
            findings.Report(GrainDiagnostics.GenericInterface, grainInterface, grainInterface.ToDisplayString());
        }
    }

    private static IEnumerable<INamedTypeSymbol> SelfAndContainingTypes(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            yield return current;
        }
    }

    /// <summary>Instance members of the interface and all its bases that a reference may have to implement:
    /// its own first, then each base in the order the compiler lists them. Accessors come with their property.</summary>
    private static IEnumerable<ISymbol> MembersToImplement(INamedTypeSymbol grainInterface) =>
        new[] { grainInterface }
            .Concat(grainInterface.AllInterfaces.Where(type => !IsIGrain(type)))
            .SelectMany(type => type.GetMembers())
            .Where(member => !member.IsStatic && (member.IsAbstract || member.IsVirtual))
            .Where(member => member is not IMethodSymbol { AssociatedSymbol: not null });

    private static MethodModel? ReadMethod(IMethodSymbol method, string invocationName, Findings findings)
    {
        var declaringInterface = method.ContainingType;
        var interfaceDisplay = declaringInterface.ToDisplayString();
        var valid = true;
        ITypeSymbol? resultType = null;
        if (method.ReturnType.TypeKind == TypeKind.Error)
        {
            // An unresolved type already has a compiler error; another one here would only add noise.
            findings.Fail();
            valid = false;
        }
        else if (!TryGetResultType(method.ReturnType, out resultType))
        {
            findings.Report(GrainDiagnostics.InvalidReturnType, method, interfaceDisplay, method.Name);
            valid = false;
        }
        var oneWay = method.GetAttributes().Any(attribute => IsRuntimeAttribute(attribute.AttributeClass, OneWayAttribute));
        if (oneWay && valid && resultType is not null)
        {
            // A caller that does not wait cannot receive a result.
            findings.Report(GrainDiagnostics.OneWayWithResult, method, interfaceDisplay, method.Name);
            valid = false;
        }
        if (method.IsGenericMethod)
        {
            findings.Report(GrainDiagnostics.GenericMethod, method, interfaceDisplay, method.Name);
            valid = false;
        }
        foreach (var parameter in method.Parameters.Where(parameter => parameter.RefKind != RefKind.None))
        {
            findings.Report(GrainDiagnostics.ByRefParameter, method, interfaceDisplay, method.Name, parameter.Name);
            valid = false;
        }
        if (!valid)
        {
            return null;
        }

        return new MethodModel(
            declaringInterface.ToDisplayString(TypeFormat),
            RuntimeTypeName(declaringInterface),
            Escape(method.Name),
            method.Name,
            method.ReturnType.ToDisplayString(TypeFormat),
            resultType?.ToDisplayString(TypeFormat),
            method.GetAttributes().Any(attribute => IsRuntimeAttribute(attribute.AttributeClass, AlwaysInterleaveAttribute)),
            oneWay,
            invocationName,
            new EquatableArray<ParameterModel>(method.Parameters.Select(ReadParameter)));
    }

    private static ParameterModel ReadParameter(IParameterSymbol parameter) => new(
        Escape(parameter.Name),
        parameter.Type.ToDisplayString(TypeFormat),
        parameter.IsParams,
        !parameter.Type.IsValueType && parameter.Type.NullableAnnotation != NullableAnnotation.Annotated);

    /// <summary>Accepts <c>Task</c> (result null) and <c>Task&lt;T&gt;</c> (result T).</summary>
    private static bool TryGetResultType(ITypeSymbol returnType, out ITypeSymbol? resultType)
    {
        resultType = null;
        if (returnType is not INamedTypeSymbol { Name: "Task", ContainingType: null } task
            || task.ContainingNamespace.ToDisplayString() != "System.Threading.Tasks")
        {
            return false;
        }
        switch (task.Arity)
        {
            case 0:
                return true;
            case 1:
                resultType = task.TypeArguments[0];
                return true;
            default:
                return false;
        }
    }

    private static bool IsRuntimeAttribute(INamedTypeSymbol? attribute, string name) =>
        attribute is { ContainingType: null } && attribute.Name == name
        && attribute.ContainingNamespace.ToDisplayString() == RuntimeNamespace;

    /// <summary>The name <see cref="System.Type.FullName"/> gives a non-generic type: nested types joined by '+'.</summary>
    private static string RuntimeTypeName(INamedTypeSymbol type)
    {
        var name = string.Join("+", SelfAndContainingTypes(type).Reverse().Select(nested => nested.MetadataName));
        return type.ContainingNamespace.IsGlobalNamespace ? name : type.ContainingNamespace.ToDisplayString() + "." + name;
    }

    /// <summary>The interface name with its containing types, e.g. <c>Outer_IFoo</c>; unique within a namespace.</summary>
    private static string NamePrefix(INamedTypeSymbol type) =>
        string.Join("_", SelfAndContainingTypes(type).Reverse().Select(nested => nested.Name));

    private static string Escape(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) == SyntaxKind.None ? identifier : "@" + identifier;

    /// <summary>Collects diagnostics for one grain interface and whether it can be emitted.</summary>
    private sealed class Findings(INamedTypeSymbol grainInterface)
    {
        public List<DiagnosticInfo> Diagnostics { get; } = [];

        public bool HasErrors { get; private set; }

        /// <summary>Marks the interface as not emittable without a diagnostic of its own.</summary>
        public void Fail() => HasErrors = true;

        public void Report(DiagnosticDescriptor descriptor, ISymbol culprit, params string[] arguments)
        {
            HasErrors = true;
            if (IsReportedByOwner(culprit))
            {
                return;
            }
            // A member inherited from outside this compilation has no source location of its own to point at.
            var location = IsThisInterface(culprit) || IsThisInterface(culprit.ContainingType)
                ? culprit.Locations[0]
                : grainInterface.Locations[0];
            Diagnostics.Add(new DiagnosticInfo(descriptor, LocationInfo.From(location), new EquatableArray<string>(arguments)));
        }

        // A member of another grain interface in this compilation is reported once, by that interface.
        private bool IsReportedByOwner(ISymbol culprit) =>
            !IsThisInterface(culprit)
            && culprit.ContainingType is { } owner
            && !IsThisInterface(owner)
            && IsGrainInterface(owner)
            && owner.Locations.Any(location => location.IsInSource);

        private bool IsThisInterface(ISymbol? symbol) => SymbolEqualityComparer.Default.Equals(symbol, grainInterface);
    }
}
